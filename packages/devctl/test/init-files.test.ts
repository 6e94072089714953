// What `devctl init` takes into a new project beyond the sources, planned in memory from this
// checkout: the files a project's own tests read (devctl's recorded logs, deploy/). A project made
// from the template runs the template's whole `pnpm test` (pnpm test:template): a recorded log left
// out emptied the trace and dashboard tests there, and a missing deploy/ failed the export tests.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MANIFEST } from '../src/export/write';
import { planProject } from '../src/scaffold/project';
import { templateRoot } from './scaffold-helpers';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const tracked = (pattern: string) =>
  execFileSync('git', ['ls-files', pattern], { cwd: templateRoot, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

describe('devctl init copies what the project’s tests read', () => {
  const plan = planProject(templateRoot, { name: 'acme-app', samples: true });

  it('every tracked .log file (recorded test logs), none of the logs/ folders', () => {
    const logs = tracked('*.log');
    expect(logs.length).toBeGreaterThan(0);
    for (const path of logs) expect(plan.files.has(path), path).toBe(true);
    expect([...plan.files.keys()].some((path) => /(^|\/)logs\/[^/]+\.log$/.test(path))).toBe(false);
  });

  it('deploy/ with the project’s name, and a manifest that takes each file for the export’s own', () => {
    for (const path of tracked('deploy')) expect(plan.files.has(path), path).toBe(true);
    // What init copies (tracked, or exported since and not yet committed).
    const deploy = [...plan.files.keys()].filter((path) => path.startsWith('deploy/'));
    expect(deploy).toContain('deploy/compose.yaml');
    const compose = plan.files.get('deploy/compose.yaml')?.content.toString('utf8') ?? '';
    expect(compose).toContain('acme-app');
    expect(compose).not.toMatch(/\bdevstack\b/);
    const manifest = JSON.parse(plan.files.get(MANIFEST)?.content.toString('utf8') ?? '{}') as {
      files: Record<string, string>;
    };
    expect(Object.keys(manifest.files).sort()).toEqual(deploy.filter((path) => path !== MANIFEST).sort());
    for (const [path, hash] of Object.entries(manifest.files)) {
      expect(hash, path).toBe(sha256(plan.files.get(path)?.content as Buffer));
    }
  });

  it('--no-samples leaves deploy/ out: it deploys the samples', () => {
    const lean = planProject(templateRoot, { name: 'acme-app', samples: false });
    expect([...lean.files.keys()].some((path) => path.startsWith('deploy/'))).toBe(false);
    expect(lean.leftOut).toContain('deploy/');
  });
});
