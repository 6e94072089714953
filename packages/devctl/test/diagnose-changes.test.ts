// "What changed since it last worked", live: a fixture service in a temporary git repository is
// seen healthy by `devctl status`, then its sources change (a commit, an uncommitted edit, a new
// file) and the rebuilt service exits silently at start. `devctl diagnose` names exactly those
// files, the commit, and the git diff command; with no stack to go on, the change leads its next.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LastHealthy } from '../src/diagnose/last-healthy';
import type { DiagnoseReport } from '../src/diagnose/types';
import {
  buildServices,
  type FixtureStack,
  get,
  pm2Status,
  startFixtureStack,
  waitUntil,
} from './fixtures/diagnose/harness';

let stack: FixtureStack;
let healthyCommit: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=devctl test', '-c', 'user.email=test@example.com', ...args], {
    cwd: stack.root,
    encoding: 'utf8',
  }).trim();
const edit = (file: string, change: (text: string) => string) => {
  const path = join(stack.root, file);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
};
const stateOf = () =>
  JSON.parse(
    readFileSync(join(stack.root, 'node_modules/.cache/devctl/last-healthy.json'), 'utf8'),
  ) as LastHealthy;

beforeAll(async () => {
  stack = await startFixtureStack([{ name: 'shop', folder: 'orders', maxRestarts: 2, minUptime: 60_000 }], {
    namespace: 'changes-fixture',
  });
  writeFileSync(join(stack.root, '.gitignore'), 'node_modules/\ndist/\nlogs/\nstack.json\n');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'the stack as it works');
  healthyCommit = git('rev-parse', 'HEAD');
  await waitUntil(
    'shop healthy',
    async () => (await get(stack.url('shop', '/health')).catch(() => ({ status: 0 }))).status === 200,
  );
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
}, 60_000);

describe('diagnose names what changed since a service last worked', () => {
  it('status records the healthy build with its commit and the fingerprint of its sources', async () => {
    const status = await stack.devctl('status', '--json');
    expect(status.code).toBe(0);
    const record = stateOf().shop;
    expect(record?.commit).toBe(healthyCommit);
    expect(record?.build).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(record?.files ?? {})).toEqual(
      expect.arrayContaining([
        'services/orders/src/routes/items.ts',
        'services/orders/src/index.ts',
        'services/orders/package.json',
      ]),
    );
  });

  it('after a commit, an uncommitted edit and a new file, a silent crash loop leads with them', async () => {
    // A commit that makes the service die at start without a word: no stack to point at. (Killed,
    // not process.exit: the kit logs the caller of a non-zero process.exit, which gives a location.)
    edit(
      'services/orders/src/routes/items.ts',
      (text) => `${text}\nsetTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);\n`,
    );
    git('commit', '-qam', 'items: flush the stock cache at start');
    const newCommit = git('log', '-1', '--format=%h %s');
    edit('services/orders/src/routes/boom.ts', (text) =>
      text.replace('100 - discount.percent', '100 - discount.percent * 2'),
    );
    writeFileSync(join(stack.root, 'services/orders/src/routes/audit.ts'), 'export const audit = true;\n');
    await buildServices(stack.root, ['orders']);
    await stack.pm2('restart', 'shop');
    await waitUntil(
      'shop to give up after its crashes',
      async () =>
        (await pm2Status(stack, 'shop'))?.status === 'errored' ||
        (await pm2Status(stack, 'shop'))?.gaveUp === true,
    );

    const result = await stack.devctl('diagnose', 'shop', '--json');
    const report = JSON.parse(result.stdout) as DiagnoseReport;
    const finding = report.findings.find((f) => f.service === 'shop');
    expect(finding, result.stdout).toBeDefined();
    expect(finding?.location).toBeNull();
    expect(finding?.changes?.files).toEqual([
      { path: 'services/orders/src/routes/audit.ts', change: 'added' },
      { path: 'services/orders/src/routes/boom.ts', change: 'modified' },
      { path: 'services/orders/src/routes/items.ts', change: 'modified' },
    ]);
    expect(finding?.changes?.commit).toBe(healthyCommit);
    expect(finding?.changes?.commits).toEqual([newCommit]);
    const command = `git diff ${healthyCommit.slice(0, 12)} -- services/orders/src/routes/audit.ts services/orders/src/routes/boom.ts services/orders/src/routes/items.ts`;
    expect(finding?.changes?.command).toBe(command);
    expect(finding?.next).toMatch(
      /^start from what changed since it last worked \(healthy at \d\d:\d\d:\d\d\): git diff /,
    );
    // The command works, and shows the change that broke it.
    const diff = execFileSync('sh', ['-c', command], { cwd: stack.root, encoding: 'utf8' });
    expect(diff).toContain("+setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);");
    // The broken build was never healthy: the record still holds the one that worked.
    expect(stateOf().shop?.commit).toBe(healthyCommit);

    const text = await stack.devctl('diagnose', 'shop');
    expect(text.stdout).toContain('changed since it last worked (healthy at');
    expect(text.stdout).toContain('    A services/orders/src/routes/audit.ts');
    expect(text.stdout).toContain(`    commit ${newCommit}`);
    expect(text.stdout).toContain(`  diff:  ${command}`);
  });
});
