// Tool apps (`devctl_role: 'tool'`) under a real PM2: devctl's own log rotator next to two fixture
// services. devctl checks the rotator's settings before starting anything, starts it with the stack
// (it rotates for real), lists it in status as a tool, shows its log, stops it with `stop`, and the
// rotator never outlives a daemon killed with SIGKILL (the next daemon starts its own).
import { appendFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, packageDir, parseJson, type ScriptApp } from './fixtures/harness';

interface StatusJson {
  services: { name: string; kind: string; status: string; pid: number | null; port: number | null }[];
}

const services: ScriptApp[] = [
  { name: 'alpha-service' },
  { name: 'beta-service', dependsOn: ['alpha-service'] },
];

function rotator(env: Record<string, string>): ScriptApp {
  return {
    name: 'devctl-logrotate',
    noPort: true,
    app: {
      devctl_role: 'tool',
      cwd: packageDir,
      script: 'bin/logrotate.js',
      wait_ready: false,
      env,
    },
  };
}

const GOOD = { LOGROTATE_MAX_SIZE: '4K', LOGROTATE_KEEP: '2', LOGROTATE_INTERVAL_MS: '200' };

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture([...services, rotator(GOOD)]);
}, 30_000);
afterAll(async () => {
  await fixture?.cleanup();
});

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await probe();
  }
  return value;
}

describe('a tool app: devctl-logrotate', () => {
  it('a bad rotator setting is refused before anything starts, naming the entry and the field', async () => {
    fixture.writeEcosystem([...services, rotator({ ...GOOD, LOGROTATE_MAX_SIZE: 'huge' })]);
    const result = await fixture.devctl(['start']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain(
      'devctl-logrotate: env.LOGROTATE_MAX_SIZE: LOGROTATE_MAX_SIZE must be a size',
    );
    expect(result.stderr).toContain('nothing was started');
    expect(fixture.home.daemonPid()).toBeUndefined();
    fixture.writeEcosystem([...services, rotator(GOOD)]);
  });

  it('starts with the stack, is listed as a tool, and really rotates', async () => {
    const started = await fixture.devctl(['start', 'alpha-service', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    expect(started.stdout).toMatch(/devctl-logrotate\s+started, online/);
    // Only alpha was named: the tool starts anyway, beta does not.
    expect(started.stdout).not.toContain('beta-service');

    const status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    const tool = status.services.find((s) => s.name === 'devctl-logrotate');
    expect(tool).toMatchObject({ kind: 'tool', status: 'online', port: null });
    expect(status.services.find((s) => s.name === 'alpha-service')).toMatchObject({ kind: 'service' });
    const text = await fixture.devctl(['status']);
    expect(text.stdout).toMatch(/devctl-logrotate \(tool\)\s+online/);
    expect(text.stdout).not.toContain('not in ecosystem');

    // 8 KiB appended to alpha's out.log: past the 4K bound, so it moves to out.log.1.
    const outLog = join(fixture.dir('alpha-service'), 'logs', 'out.log');
    mkdirSync(join(fixture.dir('alpha-service'), 'logs'), { recursive: true });
    appendFileSync(outLog, `${'x'.repeat(99)}\n`.repeat(82));
    const rotated = await until(() => existsSync(`${outLog}.1`), Boolean, 40_000);
    expect(rotated, `${outLog}.1 never appeared`).toBe(true);
    expect(statSync(`${outLog}.1`).size).toBeGreaterThanOrEqual(8200);

    const logs = await fixture.devctl(['logs', 'devctl-logrotate', '--lines', '20']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('rotating the logs of PM2 namespace fixture');
    expect(logs.stdout).toContain(`rotated ${outLog}`);
  }, 90_000);

  it('`devctl stop` stops it with the services; `devctl start` brings it back', async () => {
    const stopped = await fixture.devctl(['stop']);
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
    let status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    expect(status.services.find((s) => s.name === 'devctl-logrotate')?.status).toBe('stopped');

    const again = await fixture.devctl(['start', '--wait']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    expect(status.services.map((s) => [s.name, s.status])).toEqual([
      ['alpha-service', 'online'],
      ['beta-service', 'online'],
      ['devctl-logrotate', 'online'],
    ]);
  }, 90_000);

  it('exits by itself when its daemon is killed with SIGKILL (no orphan rotator)', async () => {
    const status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    const pids = status.services.map((s) => s.pid).filter((pid): pid is number => pid !== null);
    const rotatorPid = status.services.find((s) => s.name === 'devctl-logrotate')?.pid as number;
    expect(rotatorPid).toBeGreaterThan(0);
    const daemon = fixture.home.daemonPid() as number;
    try {
      process.kill(daemon, 'SIGKILL');
      const gone = await until(() => !isAlive(rotatorPid), Boolean, 10_000);
      expect(gone, `rotator pid ${rotatorPid} still runs after its daemon ${daemon} was killed`).toBe(true);
    } finally {
      // The services are orphans now: this test started them, so it kills them, by PID.
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 30_000);
});
