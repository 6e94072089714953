// The lists of services outside ecosystem.config.js that `devctl new service` and `remove service`
// keep in step (src/scaffold/service-lists.ts): on this repository's own files, a service added
// and removed gives every file back byte for byte, and no list disagrees with the ecosystem now.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadEcosystem } from '../src/ecosystem/index';
import {
  addServiceRow,
  addWorkspaceDevDependency,
  checkServiceLists,
  codeNaming,
  DOC_FILES,
  removeServiceRow,
  removeWorkspaceDependency,
  servicePackages,
  stackTestPackages,
} from '../src/scaffold/service-lists';
import { templateRoot } from './scaffold-helpers';

const ecosystem = loadEcosystem(templateRoot);
const known = ecosystem.services.map((s) => s.name);
/** A scratch folder holding these files, removed when the test ends. */
function scratchRoot(files: Record<string, string>): string {
  const dir = tempDir('service-lists-');
  onTestFinished(dir.cleanup);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir.path, path), text);
  return dir.path;
}

// A service this project does not have (this test also runs in projects that made another).
const folderName = ['ledger', 'ledger-two', 'ledger-three'].find(
  (name) => !known.includes(`${name}-service`),
) as string;
const another = { pm2Name: `${folderName}-service`, folder: `services/${folderName}`, port: 3997 };
const anotherPackage = `@repo/${folderName}`;

describe("the docs' service tables", () => {
  it.each(DOC_FILES)('%s lists exactly the services of ecosystem.config.js', (file) => {
    expect(checkServiceLists(ecosystem).filter((problem) => problem.startsWith(file))).toEqual([]);
  });

  it.each(DOC_FILES)('%s: a row added after the last service and removed gives the text back', (file) => {
    const text = readFileSync(join(templateRoot, file), 'utf8');
    const added = addServiceRow(text, another, known);
    const rows = added.split('\n').filter((line) => line.startsWith('| '));
    const at = rows.findIndex((line) => line.startsWith(`| ${another.pm2Name} `));
    expect(at, `a row for ${another.pm2Name}`).toBeGreaterThan(0);
    // Right after the last service of the ecosystem, before rows such as the frontend's.
    expect(known.some((name) => (rows[at - 1] as string).startsWith(`| ${name} `))).toBe(true);
    expect(rows[at]).toMatch(new RegExp(`^\\| ${another.pm2Name} +\\| ${another.folder} +\\| 3997 +\\|`));
    // Still one table: every row as wide as its header.
    const header = rows.find((line) => line.startsWith('| PM2 name')) as string;
    expect(rows.filter((line) => line.length !== header.length)).not.toContain(rows[at]);
    expect(addServiceRow(added, another, known), 'adding twice adds once').toBe(added);
    expect(removeServiceRow(added, another.pm2Name)).toBe(text);
  });

  it('reports a service missing from a table and a row of a service the ecosystem lost', () => {
    const text = readFileSync(join(templateRoot, 'AGENTS.md'), 'utf8');
    const withoutData = removeServiceRow(text, 'data-service');
    const withAnother = addServiceRow(text, another, known);
    expect(withoutData).not.toBe(text);
    const check = (agents: string) =>
      checkServiceLists({ ...ecosystem, root: scratchRoot({ 'AGENTS.md': agents }) });
    expect(check(withoutData)).toEqual([
      expect.stringMatching(/^AGENTS\.md:\d+: .* no row for data-service$/),
    ]);
    expect(check(withAnother)).toEqual([
      expect.stringMatching(
        new RegExp(`^AGENTS\\.md:\\d+: .* lists ${another.pm2Name}, which the ecosystem has not$`),
      ),
    ]);
  });
});

describe('the whole-stack test packages', () => {
  const packages = [...servicePackages(ecosystem).values()];

  it('are the packages that depend on every service (stack-tests and reliability-tests here)', () => {
    expect(packages).toHaveLength(known.length);
    expect(stackTestPackages(templateRoot, packages)).toEqual([
      'packages/reliability-tests/package.json',
      'packages/stack-tests/package.json',
    ]);
  });

  it.each(['packages/reliability-tests/package.json', 'packages/stack-tests/package.json'])(
    '%s gets the new service as a workspace devDependency in order, and loses it again exactly',
    (file) => {
      const text = readFileSync(join(templateRoot, file), 'utf8');
      const added = addWorkspaceDevDependency(text, anotherPackage);
      const names = Object.keys(JSON.parse(added).devDependencies);
      expect(names).toEqual([...names].sort());
      expect(JSON.parse(added).devDependencies[anotherPackage]).toBe('workspace:*');
      expect(removeWorkspaceDependency(added, anotherPackage)).toBe(text);
      expect(removeWorkspaceDependency(text, anotherPackage)).toBeUndefined();
    },
  );
});

describe("other services' code that calls a service", () => {
  it('is found by its PM2 name as a string or its URL variable, comments left out', () => {
    // services/data names scheduler-service in a comment only; the gateway calls it.
    expect(codeNaming(templateRoot, 'scheduler-service', 'services/scheduler')).toEqual([
      expect.stringMatching(/^services\/api-gateway\/src\/config\.ts:\d+$/),
      expect.stringMatching(/^services\/api-gateway\/src\/upstreams\.ts:\d+$/),
    ]);
    expect(codeNaming(templateRoot, another.pm2Name, another.folder)).toEqual([]);
  });
});
