// `devctl status` against a real daemon: the table and the --json shape, live /health, crash loops,
// exit codes, the daemon-down line, and that no environment value ever appears in the output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson } from './fixtures/harness';

const SECRET_TOKEN = 'tok-9f8e7d6c5b4a-never-print-me';
const DB_PASSWORD = 'pw-51d3c0ffee';

interface ServiceJson {
  name: string;
  status: string;
  pid: number | null;
  restarts: number;
  exitCode: number | null;
  memoryBytes: number;
  uptimeMs: number | null;
  health: { ok: boolean; statusCode: number | null; error: string | null; latencyMs: number } | null;
}

interface StatusJson {
  leftovers: unknown[];
  namespace: string;
  daemon: { running: boolean; pm2Home: string };
  services: ServiceJson[];
}

const SERVICE_KEYS = [
  'cpu',
  'exitCode',
  'health',
  'inEcosystem',
  'instances',
  'kind',
  'memoryBytes',
  'name',
  'pid',
  'pm2Status',
  'pmId',
  'port',
  'restarts',
  'status',
  'unstableRestarts',
  'uptimeMs',
];

describe('devctl status', () => {
  let fixture: Fixture;
  const status = async (args: string[] = []) => {
    const result = await fixture.devctl(['status', '--json', ...args]);
    expect(result.code, result.stderr).toBe(0);
    return parseJson<StatusJson>(result);
  };
  const byName = (report: StatusJson, name: string) =>
    report.services.find((s) => s.name === name) as ServiceJson;

  beforeAll(async () => {
    fixture = await createFixture([
      {
        name: 'web',
        env: {
          FIXTURE_API_TOKEN: SECRET_TOKEN,
          DATABASE_URL: `postgres://app:${DB_PASSWORD}@127.0.0.1:5432/app`,
        },
      },
      { name: 'sick', mode: 'unhealthy' },
      { name: 'looping', mode: 'crash', app: { max_restarts: 1000, min_uptime: 5000 } },
      { name: 'misconfigured', mode: 'config-error' },
      { name: 'idle' },
    ]);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('when the daemon is not running, says so in one line with how to start, exits 0, starts no daemon', async () => {
    const human = await fixture.devctl(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout.trim().split('\n')).toEqual([
      `PM2 daemon is not running (PM2_HOME=${fixture.home.home}): no service of fixture runs; start them with pnpm pm2:start`,
    ]);
    const json = await status();
    expect(json.daemon).toEqual({ running: false, pm2Home: fixture.home.home });
    expect(json.services.map((s) => s.status)).toEqual(Array(5).fill('not started'));
    expect(fixture.home.daemonPid()).toBeUndefined();
  });

  it('lists each service with the documented --json shape', async () => {
    const started = await fixture.devctl(['start', 'web', 'sick', 'looping', 'misconfigured', '--no-build']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const report = await status();
    expect(report.namespace).toBe('fixture');
    expect(report.daemon.running).toBe(true);
    expect(report.services.map((s) => s.name)).toEqual(['web', 'sick', 'looping', 'misconfigured', 'idle']);
    expect(Object.keys(report).sort()).toEqual(['daemon', 'leftovers', 'namespace', 'services']);
    expect(report.leftovers).toEqual([]);
    for (const service of report.services) expect(Object.keys(service).sort()).toEqual(SERVICE_KEYS);
    const web = byName(report, 'web');
    expect(web).toMatchObject({
      status: 'online',
      pm2Status: 'online',
      inEcosystem: true,
      port: fixture.ports.web,
    });
    expect(web.pid).toBeGreaterThan(0);
    expect(web.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(web.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(web.health).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(byName(report, 'idle')).toMatchObject({
      status: 'not started',
      pid: null,
      pmId: null,
      health: null,
    });
  });

  it('probes /health live: an online service that answers 503 shows the reason', async () => {
    const sick = byName(await status(['sick']), 'sick');
    expect(sick.status).toBe('online');
    expect(sick.health).toMatchObject({ ok: false, statusCode: 503 });
    expect(sick.health?.error).toContain('database unreachable');
  });

  it('shows a service PM2 keeps restarting as crash-loop, and one that exited 78 as stopped with its exit code', async () => {
    const deadline = Date.now() + 20_000;
    let looping: ServiceJson | undefined;
    while (Date.now() < deadline) {
      looping = byName(await status(['looping']), 'looping');
      if (looping.status === 'crash-loop' && looping.restarts >= 2) break;
    }
    expect(looping?.status).toBe('crash-loop');
    expect(looping?.exitCode).toBe(1);
    const misconfigured = byName(await status(['misconfigured']), 'misconfigured');
    expect(misconfigured).toMatchObject({ status: 'stopped', exitCode: 78, pid: null });
  });

  it('renders a table with every column and points at diagnose for the unhealthy ones', async () => {
    const result = await fixture.devctl(['status']);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual([
      'name',
      'status',
      'pid',
      'port',
      'health',
      'cpu',
      'memory',
      'uptime',
      'restarts',
      'exit',
    ]);
    expect(rows.find((r) => r.startsWith('web '))).toMatch(
      /^web\s+online\s+\d+\s+\d+\s+ok \d+ms\s+[\d.]+%\s+[\d.]+ MiB\s+\S+\s+0\s+-$/,
    );
    expect(rows.find((r) => r.startsWith('sick '))).toMatch(/fail 503/);
    expect(rows.find((r) => r.startsWith('misconfigured '))).toMatch(/stopped.*\s78$/);
    expect(result.stdout).toMatch(/unhealthy: .*sick.*; find out why with devctl diagnose/);
  });

  it('never prints an environment value, in the table or in --json', async () => {
    for (const args of [['status'], ['status', '--json'], ['status', 'web', '--json']]) {
      const result = await fixture.devctl(args);
      expect(result.stdout).not.toContain(SECRET_TOKEN);
      expect(result.stdout).not.toContain(DB_PASSWORD);
      expect(result.stdout).not.toContain('FIXTURE_API_TOKEN');
      expect(result.stdout).not.toContain(fixture.root); // not even paths from the environment
    }
    // The secret is really in PM2's view of the process: `pm2 jlist` prints it.
    const jlist = await fixture.pm2(['jlist']);
    expect(jlist.stdout).toContain(SECRET_TOKEN);
  });

  it('lists a process of the namespace that the ecosystem no longer declares', async () => {
    const stray = await fixture.pm2([
      'start',
      `${fixture.dir('idle')}/server.js`,
      '--name',
      'stray',
      '--namespace',
      'fixture',
    ]);
    expect(stray.code, stray.stderr).toBe(0);
    const report = await status();
    expect(byName(report, 'stray')).toMatchObject({ inEcosystem: false, port: null });
    const table = await fixture.devctl(['status']);
    expect(table.stdout).toMatch(/stray \(not in ecosystem\)/);
  });
});
