// "What changed since it last worked", live: a fixture service in a temporary git repository is
// verified working by `devctl start --wait`. Then an uncommitted edit, rebuilt and restarted
// without --wait, makes it answer wrong with no error: `diagnose` warns that it runs code changed
// since it last worked, naming the file; `status` (which sees /health 200) does not erase that;
// `restart --wait` verifies the build and clears it. Last, its sources change again (a commit, an
// uncommitted edit, a new file) and the rebuilt service exits silently at start: `diagnose` names
// exactly those files, the commit, and the git diff command; with no stack to go on, the change
// leads its next. Where the test is about the finding, diagnose runs in this process; the bin runs
// for what the CLI adds (a warning alone exits 0, the text).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LastHealthy } from '../src/diagnose/last-healthy';
import type { DiagnoseReport } from '../src/diagnose/types';
import {
  buildServices,
  diagnoseInProcess,
  editFile,
  type FixtureStack,
  get,
  gitIn,
  pm2Rpc,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

let stack: FixtureStack;
let healthyCommit: string;

const git = (...args: string[]) => gitIn(stack.root, args);
const edit = (file: string, change: (text: string) => string) => editFile(stack.root, file, change);
const stateOf = () =>
  JSON.parse(
    readFileSync(join(stack.root, 'node_modules/.cache/devctl/last-healthy.json'), 'utf8'),
  ) as LastHealthy;

beforeAll(async () => {
  // Not started here: the first test starts it with devctl (a start through PM2 first, stopped
  // again, cost a start of the service and two PM2 CLIs).
  stack = await startFixtureStack(
    [{ name: 'shop', folder: 'orders', maxRestarts: 2, minUptime: 60_000, notStarted: true }],
    { namespace: 'changes-fixture' },
  );
  writeFileSync(join(stack.root, '.gitignore'), 'node_modules/\ndist/\nlogs/\nstack.json\n');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'the stack as it works');
  healthyCommit = git('rev-parse', 'HEAD');
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
}, 60_000);

describe('diagnose names what changed since a service last worked', () => {
  it('a verified start records the healthy build with its commit and the fingerprint of its sources', async () => {
    const start = await stack.devctl('start', 'shop', '--wait', '--no-build');
    expect(start.code, start.stdout + start.stderr).toBe(0);
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

  it('an edit restarted without --wait that answers wrong with no error: diagnose warns, status does not erase it, restart --wait clears it', async () => {
    const verified = stateOf().shop;
    const before = await get(stack.url('shop', '/items/1'));
    expect(JSON.parse(before.body)).toMatchObject({ count: 3 });
    // A wrong answer, no error: the kind of fault only "what changed" can point at.
    edit('services/orders/src/routes/items.ts', (text) =>
      text.replace('return { id, count: countOf(id) };', 'return { id, count: countOf(id) - 1 };'),
    );
    await buildServices(stack.root, ['orders']);
    const restart = await stack.devctl('restart', 'shop', '--no-build');
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    await waitUntil('shop to answer on the edited build', async () => {
      const answer = await get(stack.url('shop', '/items/1')).catch(() => ({ status: 0, body: '' }));
      return answer.status === 200 && JSON.parse(answer.body).count === 2;
    });

    const expectWarning = async (through: 'bin' | 'in-process') => {
      let report: DiagnoseReport;
      if (through === 'bin') {
        const result = await stack.devctl('diagnose', '--json');
        // A warning only: nothing failed, so the exit code stays 0.
        expect(result.code, result.stdout).toBe(0);
        report = JSON.parse(result.stdout) as DiagnoseReport;
      } else report = await diagnoseInProcess(stack);
      expect(report.findings.map((f) => `${f.kind} ${f.service}`)).toEqual(['changed-since-healthy shop']);
      const [warning] = report.findings;
      expect(warning?.severity).toBe('warning');
      expect(warning?.summary).toMatch(
        /^shop runs code changed since it last worked at \d\d:\d\d:\d\d \(services\/orders\/src\/routes\/items\.ts, uncommitted\)$/,
      );
      expect(warning?.changes?.files).toEqual([
        { path: 'services/orders/src/routes/items.ts', change: 'modified' },
      ]);
      const command = `git diff ${healthyCommit.slice(0, 12)} -- services/orders/src/routes/items.ts`;
      expect(warning?.changes?.command).toBe(command);
      expect(warning?.next).toContain(`this change is the lead: ${command}`);
      const diff = execFileSync('sh', ['-c', command], { cwd: stack.root, encoding: 'utf8' });
      expect(diff).toContain('+    return { id, count: countOf(id) - 1 };');
    };
    await expectWarning('bin');
    // Neither diagnose (it warned on shop) nor status (it sees /health 200) took the edited build
    // for one that works.
    const status = await stack.devctl('status', '--json');
    expect(status.code).toBe(0);
    expect(stateOf().shop).toEqual(verified);
    await expectWarning('in-process');
    const text = await stack.devctl('diagnose');
    expect(text.stdout).toContain('shop runs code changed since it last worked at');
    expect(text.stdout).toContain('    M services/orders/src/routes/items.ts');

    // A verified restart takes the build as working: nothing to warn of any more.
    const verify = await stack.devctl('restart', 'shop', '--wait', '--no-build');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(stateOf().shop?.since).not.toBe(verified?.since);
    expect((await diagnoseInProcess(stack)).findings).toEqual([]);
  });

  it('a source deleted on disk while the verified build runs: no warning (that build still has it)', async () => {
    // As after a git pull that removed a file: the process runs the build verified a moment ago.
    const file = join(stack.root, 'services/orders/src/routes/items.ts');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    try {
      const report = await diagnoseInProcess(stack);
      expect(report.findings.filter((f) => f.kind === 'changed-since-healthy')).toEqual([]);
    } finally {
      writeFileSync(file, text);
    }
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
    await pm2Rpc(stack, 'restart', 'shop');
    await waitUntil(
      'shop to give up after its crashes',
      async () =>
        (await pm2StatusRpc(stack, 'shop'))?.status === 'errored' ||
        (await pm2StatusRpc(stack, 'shop'))?.gaveUp === true,
    );

    const report = await diagnoseInProcess(stack, { names: ['shop'] });
    const finding = report.findings.find((f) => f.service === 'shop');
    expect(finding, JSON.stringify(report)).toBeDefined();
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
