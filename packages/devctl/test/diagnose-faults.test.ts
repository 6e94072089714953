// Every fault diagnose knows, injected into real processes under a real PM2 daemon, then diagnosed
// (the findings in this process; the real devctl bin for its text, exit codes and a usage error):
// kind, root-cause service, source location and next step. Live here: one
// case per class whose detection depends on what real processes do (a crash loop PM2 gives up on,
// a port held by a foreign process and by an orphan, a stopped dependency, a probe that times out,
// a database port nothing listens on, an exit on a configuration error, an app missing from PM2).
// The other classes, whose findings follow from what diagnose collected alone, are rows of the table
// over this stack's recorded snapshot (diagnose-recorded-faults.test.ts); RECORD_DIAGNOSE=1 runs
// every fault live again and rewrites that snapshot. A crash at start (orders-start: the exception,
// its TypeScript line, the loop folded into it) is such a row: what PM2 does with a crash loop is
// live here with orders-silent, whose exit the kit explains.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpawnedProcess } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnoseReport, Finding } from '../src/diagnose/types';
import {
  answersHealth,
  diagnoseInProcess,
  type FixtureStack,
  get,
  type KitApp,
  pm2LogText,
  pm2Rpc,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

const allApps: KitApp[] = [
  { name: 'catalog', folder: 'catalog' },
  { name: 'inventory', folder: 'catalog' },
  {
    name: 'orders',
    folder: 'orders',
    dependsOn: ['inventory'],
    env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:inventory}}' },
  },
  { name: 'orders-boom', folder: 'orders' },
  { name: 'orders-crash', folder: 'orders' },
  {
    name: 'orders-start',
    folder: 'orders',
    env: { FAULT: 'start-throw' },
    maxRestarts: 2,
    minUptime: 60_000,
  },
  { name: 'orders-reject', folder: 'orders', env: { FAULT: 'rejection' }, maxRestarts: 2, minUptime: 60_000 },
  { name: 'orders-loop', folder: 'orders', env: { FAULT: 'exit3' }, maxRestarts: 2, minUptime: 60_000 },
  // process.exit(3) at start with nothing written: the kit logs the caller of process.exit.
  {
    name: 'orders-silent',
    folder: 'orders',
    env: { FAULT: 'silent-exit' },
    maxRestarts: 2,
    minUptime: 60_000,
  },
  // One start each: the held port, not a loop, is what these show (PM2 gives up at the first exit).
  { name: 'orders-port', folder: 'orders', maxRestarts: 1, minUptime: 60_000 },
  { name: 'orders-orphan', folder: 'orders', maxRestarts: 1, minUptime: 60_000 },
  { name: 'orders-ready', folder: 'orders', env: { FAULT: 'not-ready' } },
  { name: 'orders-hang', folder: 'orders', env: { FAULT: 'hang-health' } },
  { name: 'orders-leak', folder: 'orders', env: { FAULT: 'leak' }, maxMemoryRestart: '4G' },
  { name: 'orders-memory', folder: 'orders', env: { FAULT: 'leak' }, maxMemoryRestart: '150M' },
  {
    name: 'catalog-db',
    folder: 'catalog',
    env: { DATABASE_URL: 'postgres://fixture:s3cret-pw@127.0.0.1:{{free}}/shop' },
  },
  { name: 'catalog-smtp', folder: 'catalog', env: { SMTP_HOST: '127.0.0.1', SMTP_PORT: '{{free}}' } },
  { name: 'billing', folder: 'billing' },
  { name: 'mailer', folder: 'mailer', maxRestarts: 2, minUptime: 60_000 },
  { name: 'reports', folder: 'catalog', notStarted: true },
];

// Run live (the rest are table rows over the recorded snapshot, unless recording it again).
const LIVE = new Set([
  'catalog',
  'inventory',
  'orders',
  'orders-silent',
  'orders-port',
  'orders-orphan',
  'orders-hang',
  'catalog-db',
  'billing',
  'reports',
]);
const recording = process.env.RECORD_DIAGNOSE !== undefined && process.env.RECORD_DIAGNOSE !== '';
const apps = allApps.filter((app) => recording || LIVE.has(app.name));
const runs = (name: string) => apps.some((app) => app.name === name);

let stack: FixtureStack;
let report: DiagnoseReport;
let human: { code: number | null; stdout: string };
let foreignHolder: SpawnedProcess;
let orphanHolder: SpawnedProcess;

const exits = (name: string) =>
  (pm2LogText(stack).match(new RegExp(`App \\[${name}:\\d+\\] exited`, 'g')) ?? []).length;
const healthy = (name: string) => answersHealth(stack, name);
const findingOf = (service: string, kind?: string): Finding => {
  const found = report.findings.find((f) => f.service === service && (kind === undefined || f.kind === kind));
  if (!found)
    throw new Error(
      `no ${kind ?? ''} finding for ${service} (checked: ${report.checked.find((line) => line.startsWith(`${service}: `))}); findings: ${JSON.stringify(report.findings.map((f) => [f.service, f.kind]))}`,
    );
  return found;
};
beforeAll(async () => {
  stack = await startFixtureStack(apps, {
    // PM2's memory check every second (max_memory_restart) only when orders-memory runs.
    workerIntervalMs: runs('orders-memory') ? 1000 : undefined,
    beforeStart: async (s) => {
      foreignHolder = await s.holdPort(s.ports['orders-port'] as number, 'foreign');
      orphanHolder = await s.holdPort(s.ports['orders-orphan'] as number, 'project');
    },
  });
  for (const name of ['inventory', 'orders', 'orders-boom', 'orders-crash'].filter(runs)) {
    await waitUntil(`${name} healthy`, () => healthy(name));
  }
  // A dependency goes down; its dependent fails on the next request.
  await pm2Rpc(stack, 'stop', 'inventory');
  expect((await get(stack.url('orders', '/orders/42'))).status).toBe(502);
  if (recording) {
    // A handler throws (500); a request crashes the process (PM2 restarts it).
    expect((await get(stack.url('orders-boom', '/boom'))).status).toBe(500);
    expect((await get(stack.url('orders-crash', '/crash'))).status).toBe(202);
    await waitUntil(
      'orders-crash to crash and come back',
      async () => exits('orders-crash') >= 1 && (await healthy('orders-crash')),
    );
  }
  // Crash loops run until PM2 gives up: 2 unstable restarts within min_uptime x max_restarts (120 s,
  // generous because a loaded machine can take seconds per start).
  for (const name of [
    'orders-start',
    'orders-reject',
    'orders-loop',
    'orders-silent',
    'orders-port',
    'orders-orphan',
    'mailer',
  ].filter(runs)) {
    // PM2 clears created_at when it gives up.
    await waitUntil(
      `${name} to be given up by PM2`,
      async () => (await pm2StatusRpc(stack, name))?.gaveUp === true,
      90_000,
    );
  }
  // billing exits 78 on its configuration error: PM2 does not restart it (stop_exit_codes).
  await waitUntil('billing to exit on its configuration error', () =>
    /App \[billing:\d+\] exited with code \[78\]/.test(pm2LogText(stack)),
  );
  if (recording) {
    await waitUntil(
      'a max_memory_restart reload',
      () => pm2LogText(stack).includes('exceeds --max-memory-restart'),
      60_000,
    );
    // Memory is only judged on processes past their start-up.
    await waitUntil(
      'orders-leak to run 9 s',
      async () => ((await pm2StatusRpc(stack, 'orders-leak'))?.uptimeMs ?? 0) >= 9000,
    );
  }

  // The findings in this process; the bin's text and exit code for the same stack.
  report = await diagnoseInProcess(stack);
  human = await stack.devctl('diagnose');
  // RECORD_DIAGNOSE=1 keeps what diagnose looked at for the table tests (diagnose-recorded-faults,
  // diagnose-attribution).
  if (recording) {
    const file = fileURLToPath(
      new URL('./fixtures/diagnose/recorded/known-faults.snapshot.json', import.meta.url),
    );
    await stack.devctlWith({ DEVCTL_RECORD_SNAPSHOT: file }, 'diagnose', '--json');
  }
}, 420_000);

afterAll(async () => {
  await stack?.cleanup();
});

describe('diagnose on a live stack with a fault of each class that needs real processes', () => {
  it('exits 1 and lists errors before warnings', () => {
    expect(human.code).toBe(1);
    expect(report.healthy).toBe(false);
    const severities = report.findings.map((f) => f.severity);
    expect(
      severities.indexOf('warning') === -1 || severities.lastIndexOf('error') < severities.indexOf('warning'),
    ).toBe(true);
  });

  it('config error: names the variable and the file to set it in', () => {
    const finding = findingOf('billing', 'config-error');
    expect(finding.severity).toBe('error');
    expect(finding.summary).toContain('PAYMENT_API_KEY is required but not set');
    expect(finding.next).toBe(
      'set PAYMENT_API_KEY in services/billing/.env (see services/billing/.env.example), then pnpm devctl restart billing --wait',
    );
    expect(finding.evidence.some((e) => e.text.includes('config error in billing: PAYMENT_API_KEY'))).toBe(
      true,
    );
  });

  it('port held by a foreign process: its pid and command line, not an orphan', () => {
    const finding = findingOf('orders-port', 'port-conflict');
    expect(finding.summary).toContain(
      `port ${stack.ports['orders-port']} is held by pid ${foreignHolder.pid}`,
    );
    expect(finding.summary).toContain('server.mjs');
    expect(finding.summary).toContain('not part of this project');
    expect(finding.next).toContain(`stop pid ${foreignHolder.pid}`);
  });

  it('port held by an orphan of this project: kill it', () => {
    const finding = findingOf('orders-orphan', 'port-conflict');
    expect(finding.summary).toContain(`held by pid ${orphanHolder.pid}`);
    expect(finding.summary).toContain('an orphan of this project');
    expect(finding.next).toBe(
      `kill ${orphanHolder.pid} (a leftover of this project), then pnpm devctl restart orders-orphan --wait`,
    );
  });

  it('a stopped dependency is the root cause, not the service that fails because of it', () => {
    const finding = findingOf('inventory');
    expect(finding.kind).toBe('stopped');
    expect(finding.severity).toBe('error');
    expect(finding.summary).toContain('orders fails because of it');
    expect(
      finding.evidence.some((e) => e.service === 'orders' && e.text.includes('inventory unreachable at')),
    ).toBe(true);
    expect(finding.next).toBe('pnpm devctl start inventory --wait');
    expect(report.findings.filter((f) => f.service === 'orders')).toEqual([]);
  });

  it('the database at DATABASE_URL unreachable: host:port, where it is set, no password', () => {
    const finding = findingOf('catalog-db', 'dependency-unreachable');
    expect(finding.summary).toMatch(
      /catalog-db cannot reach the database at 127\.0\.0\.1:\d+ \(DATABASE_URL\): ECONNREFUSED/,
    );
    expect(finding.next).toMatch(/^start PostgreSQL at 127\.0\.0\.1:\d+ \(or remove DATABASE_URL/);
    expect(JSON.stringify(report)).not.toContain('s3cret-pw');
  });

  it('online but /health does not answer: the timeout', () => {
    const finding = findingOf('orders-hang', 'unhealthy');
    expect(finding.summary).toMatch(/GET \/health no answer within \d+ ms/);
  });

  it('a service missing from PM2', () => {
    const finding = findingOf('reports', 'missing');
    expect(finding.summary).toBe('reports is not in PM2 (never started, or deleted)');
    expect(finding.next).toBe('pnpm devctl start reports --wait');
  });

  it('healthy services have no finding', () => {
    expect(report.findings.filter((f) => f.service === 'catalog')).toEqual([]);
    expect(report.checked.some((line) => line.startsWith('catalog: online'))).toBe(true);
  });

  it('prints the same findings for a person, and exits 1', () => {
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^diagnose: \d+ errors, \d+ warnings? \(most severe first\)/);
    expect(human.stdout).toContain('✖ error  billing  config-error');
    expect(human.stdout).toContain('where: services/orders/src/faults/shutdown.ts:4:13');
    expect(human.stdout).toContain('next:  pnpm devctl start inventory --wait');
    expect(human.stdout).not.toContain('\u001b[');
  });

  it('diagnose <name> reports that service and the root cause of its failure', async () => {
    // In this process: what diagnose finds for a name (the exit code of an error is checked above).
    const named = await diagnoseInProcess(stack, { names: ['orders'] });
    expect(named.findings.map((f) => [f.service, f.kind])).toEqual([['inventory', 'stopped']]);
    expect(named.checked.filter((line) => /^[\w-]+: /.test(line)).map((line) => line.split(':')[0])).toEqual([
      'orders',
    ]);
  });

  it('an unknown service name is a usage error (exit 2) with a suggestion', async () => {
    const result = await stack.devctl('diagnose', 'order');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('did you mean orders?');
  });
});

// Formerly diagnose-silent-exit.test.ts, on this stack (one PM2 daemon less): a service that ends
// itself with process.exit(3) at start and writes nothing shows in PM2 as a crash loop with "exit
// code 3". The kit logs the caller of process.exit, and diagnose names that file and line.
// The same exit after a message on stderr (orders-loop) is a row of diagnose-recorded-faults.
describe('a silent process.exit(3) at start', () => {
  const SHUTDOWN = 'services/orders/src/faults/shutdown.ts';

  it('is a crash-loop finding with the file and line of the process.exit call', () => {
    const finding = findingOf('orders-silent');
    expect(finding.kind).toBe('crash-loop');
    expect(finding.severity).toBe('error');
    expect(finding.location).toEqual({ file: SHUTDOWN, line: 4, column: 13 });
    expect(finding.summary).toMatch(
      new RegExp(
        `^orders-silent is crash-looping: \\d+ crashes since \\S+, exit code 3; PM2 gave up \\(errored\\); it calls process\\.exit\\(3\\) at ${SHUTDOWN}:4:13$`,
      ),
    );
    expect(finding.next).toBe(
      `fix ${SHUTDOWN}:4:13 (process.exit(3) ends the process there; the last run: pnpm devctl logs orders-silent --err --lines 50), then pnpm devctl restart orders-silent --wait`,
    );
    // The evidence shows the call and who made it: the service's start-up, in its TypeScript.
    const call = finding.evidence.find((e) => e.text.startsWith('FATAL process.exit(3) called at'));
    expect(call?.text).toContain(`at abandonWhenLicenceMissing (${SHUTDOWN}:4:13)`);
    expect(call?.text).toMatch(/services\/orders\/src\/index\.ts:\d+:\d+/);
  });

  it('prints the location and the fix for a person', () => {
    // The text of the whole stack's diagnose, which the bin printed above.
    expect(human.stdout).toContain(`where: ${SHUTDOWN}:4:13`);
    expect(human.stdout).toContain(`fix ${SHUTDOWN}:4:13`);
  });

  it("error.log holds one line per run, the kit's, and nothing else", () => {
    const errorLog = readFileSync(join(stack.root, 'services/orders/logs/orders-silent.error.log'), 'utf8');
    const lines = errorLog.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const record = JSON.parse(line.replace(/^\S+: /, '')) as {
        level: number;
        exit: { code: number; at: string };
      };
      expect(record).toMatchObject({ level: 60, exit: { code: 3, at: `${SHUTDOWN}:4:13` } });
    }
  });
});
