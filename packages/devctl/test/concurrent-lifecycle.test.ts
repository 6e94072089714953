// Lifecycle commands run at the same moment, on real PM2 daemons in private PM2 homes: two starts
// of one stack leave one daemon and one copy of each service; two stacks starting at once on a
// fresh home share one daemon; a lock left by a dead process (or by a pid now reused) is taken
// over; a wait past its bound fails naming the holder. Overlap is made certain by conditions, not
// timing: a service that becomes ready only when the test opens a gate, or a lock the test holds
// until the commands say they wait for it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isAlive, killTree, spawnProcess } from '@repo/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, daemonLockPath, type HeldLock, lockTimeoutMs, stackLockPath } from '../src/lock/index';
import { daemonProcesses } from '../src/pm2/daemon';
import { createFixture, devctlBin, type Fixture, type RunResult, type ScriptApp } from './fixtures/harness';
import { nameOf, pm2Processes } from './fixtures/pm2-list';

/** The PM2 daemons of `home` (not a daemon's own child between fork and exec, which carries its title). */
function godDaemons(home: string): number[] {
  return daemonProcesses(home).filter((pid) => isAlive(pid));
}

function pidFile(home: string): number {
  return Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim());
}

function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** A service that is ready (listens, /health 200, tells PM2) only once the file `GATE` exists. */
const GATE_SCRIPT = `const { existsSync } = require('node:fs');
const { createServer } = require('node:http');
const timer = setInterval(() => {
  if (!existsSync(process.env.GATE)) return;
  clearInterval(timer);
  createServer((req, res) => res.end('{"status":"ok"}')).listen(Number(process.env.PORT), () => process.send?.('ready'));
}, 50);
`;

const fixtures: Fixture[] = [];
const held: HeldLock[] = [];
const gates: string[] = [];

afterEach(async () => {
  for (const lock of held.splice(0)) lock.release();
  for (const gate of gates.splice(0)) rmSync(gate, { force: true });
  for (const fixture of fixtures.splice(0)) {
    // Every daemon of the home, by pid (a second daemon is what this file guards against).
    for (const pid of godDaemons(fixture.home.home)) await killTree(pid, 'SIGTERM', { graceMs: 3000 });
    await fixture.cleanup();
  }
});

async function fixtureOf(apps: ScriptApp[], namespace: string): Promise<Fixture> {
  const fixture = await createFixture(apps, { namespace });
  fixtures.push(fixture);
  return fixture;
}

function envOf(fixture: Fixture, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...fixture.home.env,
    DEVCTL_ROOT: fixture.root,
    NO_COLOR: '1',
    ...extra,
  };
}

/** Starts the real devctl without waiting for it (killed with its tree when the test ends). */
function spawnDevctl(fixture: Fixture, args: string[], extra: Record<string, string> = {}) {
  const child = spawnProcess(process.execPath, [devctlBin, ...args], {
    cwd: fixture.root,
    env: envOf(fixture, extra),
    name: `devctl ${args.join(' ')}`,
  });
  return child;
}

async function finished(child: ReturnType<typeof spawnDevctl>): Promise<RunResult> {
  const { code } = await child.exited;
  return { code, stdout: child.output(), stderr: '' };
}

/** PM2's process list of `home` (what `pm2 jlist` prints): namespace/name -> how many processes carry it. */
async function copiesByName(home: string): Promise<Record<string, number>> {
  const copies: Record<string, number> = {};
  for (const p of await pm2Processes(home)) {
    const key = `${p.pm2_env?.namespace}/${nameOf(p)}`;
    copies[key] = (copies[key] ?? 0) + 1;
  }
  return copies;
}

describe('lifecycle commands at the same moment', () => {
  it('two start --wait of one stack on a fresh PM2_HOME: one daemon, one copy of each service, both exit 0, the second says it waited', async () => {
    const gate = join(process.env.TMPDIR ?? '/tmp', `devctl-gate-${process.pid}-${Date.now()}`);
    gates.push(gate);
    const fixture = await fixtureOf(
      [
        { name: 'store' },
        { name: 'api', dependsOn: ['store'] },
        {
          name: 'slow',
          env: { GATE: gate },
          app: { script: join('..', '..', 'gate.js'), listen_timeout: 60_000 },
        },
      ],
      'same-stack',
    );
    writeFileSync(join(fixture.root, 'gate.js'), GATE_SCRIPT);
    const first = spawnDevctl(fixture, ['start', '--wait', '--timeout', '60']);
    const second = spawnDevctl(fixture, ['start', '--wait', '--timeout', '60']);
    // Whichever took the stack's lock is held up by `slow`; the other must say whom it waits for.
    const waiting =
      /waiting for the stack of namespace same-stack \(PM2_HOME=[^)]+\): held by pid (\d+) \(devctl start --wait --timeout 60, since \d\d:\d\d:\d\d\)/;
    const [waiter, holder] = await Promise.race([
      first.waitForOutput(waiting, 60_000).then(() => [first, second] as const),
      second.waitForOutput(waiting, 60_000).then(() => [second, first] as const),
    ]);
    expect(waiting.exec(waiter.output())?.[1]).toBe(String(holder.pid));
    writeFileSync(gate, 'open\n');

    const [holderRun, waiterRun] = await Promise.all([finished(holder), finished(waiter)]);
    expect(holderRun.code, holderRun.stdout).toBe(0);
    expect(waiterRun.code, waiterRun.stdout).toBe(0);
    expect(holderRun.stdout).toMatch(/started the PM2 daemon/);
    expect(holderRun.stdout).not.toMatch(/waiting for/);
    expect(waiterRun.stdout).toMatch(
      /waited [\d.]+ s for pid \d+ \(devctl start --wait --timeout 60\); now acting on what it left/,
    );
    // The second joined: it found every service up and only checked its health.
    expect(waiterRun.stdout).not.toMatch(/started the PM2 daemon/);
    for (const name of ['store', 'api', 'slow']) {
      expect(waiterRun.stdout).toMatch(new RegExp(`${name}\\s+already running, healthy`));
    }

    const daemons = godDaemons(fixture.home.home);
    expect(daemons).toEqual([pidFile(fixture.home.home)]);
    expect(await copiesByName(fixture.home.home)).toEqual({
      'same-stack/store': 1,
      'same-stack/api': 1,
      'same-stack/slow': 1,
      // The fixture has no log rotator tool: three services, nothing else.
    });
  }, 180_000);

  it('two stacks starting at once on a fresh PM2_HOME launch one daemon and both join it', async () => {
    const one = await fixtureOf([{ name: 'alpha' }], 'stack-one');
    const two = await fixtureOf([{ name: 'beta' }], 'stack-two');
    const home = one.home.home;
    // Held by this test until both commands say they wait for the launch: the race is certain.
    held.push(
      await acquireLock({ path: daemonLockPath(home), what: 'test', timeoutMs: 0, command: 'the test' }),
    );
    const a = spawnDevctl(one, ['start', '--wait']);
    const b = spawnDevctl(two, ['start', '--wait'], { PM2_HOME: home });
    const waitLine = /waiting for the launch of the PM2 daemon of PM2_HOME=\S+: held by pid \d+ \(the test/;
    await Promise.all([a.waitForOutput(waitLine, 60_000), b.waitForOutput(waitLine, 60_000)]);
    held.pop()?.release();

    const [ra, rb] = await Promise.all([finished(a), finished(b)]);
    expect(ra.code, ra.stdout).toBe(0);
    expect(rb.code, rb.stdout).toBe(0);
    // Exactly one of them launched the daemon; the other joined it.
    expect([ra, rb].filter((r) => /started the PM2 daemon/.test(r.stdout))).toHaveLength(1);
    expect(godDaemons(home)).toEqual([pidFile(home)]);
    expect(await copiesByName(home)).toEqual({ 'stack-one/alpha': 1, 'stack-two/beta': 1 });
  }, 180_000);

  it('stop waits for a command holding the stack, says for whom, then stops what it left', async () => {
    const fixture = await fixtureOf([{ name: 'solo' }], 'stop-waits');
    const started = await fixture.devctl(['start', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    held.push(
      await acquireLock({
        path: stackLockPath(fixture.home.home, 'stop-waits'),
        what: 'test',
        timeoutMs: 0,
        command: 'devctl restart solo --wait',
      }),
    );
    const stop = spawnDevctl(fixture, ['stop']);
    await stop.waitForOutput(
      new RegExp(
        `waiting for the stack of namespace stop-waits .*held by pid ${process.pid} \\(devctl restart solo --wait`,
      ),
      60_000,
    );
    // Nothing was stopped while the other command held the stack.
    expect((await copiesByName(fixture.home.home))['stop-waits/solo']).toBe(1);
    expect(stop.output()).not.toMatch(/solo\s+stopped/);
    held.pop()?.release();
    const result = await finished(stop);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(
      /waited [\d.]+ s for pid \d+ \(devctl restart solo --wait\); now acting on what it left/,
    );
    expect(result.stdout).toMatch(/✓ solo\s+stopped/);
  }, 120_000);

  it('takes over a stack lock whose holder died', async () => {
    const fixture = await fixtureOf([{ name: 'solo' }], 'stale-dead');
    const dead = spawnProcess(process.execPath, ['-e', '0']);
    await dead.exited;
    expect(isAlive(dead.pid)).toBe(false);
    const path = stackLockPath(fixture.home.home, 'stale-dead');
    ensureDir(path);
    writeFileSync(
      path,
      `${JSON.stringify({ pid: dead.pid, host: hostname(), command: 'devctl start --wait', since: new Date().toISOString(), token: 'dead' })}\n`,
    );
    const result = await fixture.devctl(['start', '--wait'], { env: { DEVCTL_LOCK_TIMEOUT: '600' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`took over the stack of namespace stale-dead`);
    expect(result.stdout).toMatch(
      new RegExp(`from pid ${dead.pid} \\(devctl start --wait, since [^)]+\\), which is no longer running`),
    );
    expect(result.stdout).not.toMatch(/waiting for/);
  }, 120_000);

  it('two starts that find the same dead holder: exactly one takes over, one holds, the other waits for it', async () => {
    const gate = join(process.env.TMPDIR ?? '/tmp', `devctl-gate-${process.pid}-${Date.now()}`);
    gates.push(gate);
    const fixture = await fixtureOf(
      [
        {
          name: 'slow',
          env: { GATE: gate },
          app: { script: join('..', '..', 'gate.js'), listen_timeout: 60_000 },
        },
      ],
      'stale-race',
    );
    writeFileSync(join(fixture.root, 'gate.js'), GATE_SCRIPT);
    const dead = spawnProcess(process.execPath, ['-e', '0']);
    await dead.exited;
    const path = stackLockPath(fixture.home.home, 'stale-race');
    ensureDir(path);
    writeFileSync(
      path,
      `${JSON.stringify({ pid: dead.pid, host: hostname(), command: 'devctl start', since: new Date().toISOString(), token: 'dead' })}\n`,
    );
    const first = spawnDevctl(fixture, ['start', '--wait']);
    const second = spawnDevctl(fixture, ['start', '--wait']);
    // Whichever holds the stack (the gate keeps it there) is waited for by the other. The one that
    // removed the dead lock need not be the holder: the other may create its lock in between.
    const waiting = /waiting for the stack of namespace stale-race .*held by pid (\d+) /;
    const [waiter, holder] = await Promise.race([
      first.waitForOutput(waiting, 60_000).then(() => [first, second] as const),
      second.waitForOutput(waiting, 60_000).then(() => [second, first] as const),
    ]);
    expect(waiting.exec(waiter.output())?.[1]).toBe(String(holder.pid));
    writeFileSync(gate, 'open\n');
    const runs = await Promise.all([finished(holder), finished(waiter)]);
    for (const run of runs) expect(run.code, run.stdout).toBe(0);
    const tookOver = new RegExp(`took over the stack of namespace stale-race .*from pid ${dead.pid} `);
    expect(runs.filter((run) => tookOver.test(run.stdout))).toHaveLength(1);
    expect(await copiesByName(fixture.home.home)).toEqual({ 'stale-race/slow': 1 });
    expect(godDaemons(fixture.home.home)).toEqual([pidFile(fixture.home.home)]);
  }, 180_000);

  it('takes over a lock whose pid now belongs to another process (pid reuse)', async () => {
    const fixture = await fixtureOf([{ name: 'solo' }], 'stale-reused');
    // This test's own pid is alive, but it started at another moment than the recorded holder.
    const path = stackLockPath(fixture.home.home, 'stale-reused');
    ensureDir(path);
    writeFileSync(
      path,
      `${JSON.stringify({ pid: process.pid, startTicks: startTicks(process.pid) - 1, host: hostname(), command: 'devctl restart', since: new Date().toISOString(), token: 'reused' })}\n`,
    );
    const result = await fixture.devctl(['start', '--wait'], { env: { DEVCTL_LOCK_TIMEOUT: '600' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`took over the stack of namespace stale-reused .*from pid ${process.pid} \\(devctl restart`),
    );
  }, 120_000);

  it('a start that waits past its bound fails naming the holder, and starts nothing', async () => {
    const fixture = await fixtureOf([{ name: 'solo' }], 'bounded');
    held.push(
      await acquireLock({
        path: stackLockPath(fixture.home.home, 'bounded'),
        what: 'test',
        timeoutMs: 0,
        command: 'devctl restart --wait',
      }),
    );
    const result = await fixture.devctl(['start', '--wait'], { env: { DEVCTL_LOCK_TIMEOUT: '0.5' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /waiting for the stack of namespace bounded .*held by pid \d+ \(devctl restart --wait/,
    );
    expect(result.stderr).toMatch(
      new RegExp(
        `the stack of namespace bounded \\(PM2_HOME=[^)]+\\) is still held by pid ${process.pid} \\(devctl restart --wait, since \\d\\d:\\d\\d:\\d\\d\\) after [\\d.]+ s of waiting .*; nothing was started`,
      ),
    );
    expect(result.stderr).toMatch(
      new RegExp(
        `next: run devctl start again once pid ${process.pid} is done .*kill ${process.pid}.*DEVCTL_LOCK_TIMEOUT=<seconds>`,
      ),
    );
    expect(godDaemons(fixture.home.home)).toEqual([]);
  }, 60_000);

  it('a daemon launch that waits past its bound fails naming the holder, in --json too', async () => {
    const fixture = await fixtureOf([{ name: 'solo' }], 'bounded-daemon');
    held.push(
      await acquireLock({
        path: daemonLockPath(fixture.home.home),
        what: 'test',
        timeoutMs: 0,
        command: 'pm2-launcher',
      }),
    );
    const result = await fixture.devctl(['start', '--json'], { env: { DEVCTL_LOCK_TIMEOUT: '0.5' } });
    expect(result.code).toBe(1);
    // stdout is the JSON document; the wait is said on stderr.
    expect(result.stderr).toMatch(
      /devctl: waiting for the launch of the PM2 daemon of PM2_HOME=\S+: held by pid \d+ \(pm2-launcher/,
    );
    const error = JSON.parse(result.stdout.trim()) as {
      error: { message: string; exitCode: number; lock: { holder: { pid: number } } };
    };
    expect(error.error.exitCode).toBe(1);
    expect(error.error.lock.holder.pid).toBe(process.pid);
    expect(error.error.message).toMatch(
      /no daemon answers on \S+rpc\.sock\nnext: if pid \d+ is stuck, stop it/,
    );
    expect(godDaemons(fixture.home.home)).toEqual([]);
  }, 60_000);
});

describe('which processes are the PM2 daemons of a home', () => {
  // PM2's daemon forks a child for `df -kP` when it starts and every 30 s, and for each app; until
  // that child execs it carries the daemon's title. A CI run once read one of them as a second
  // daemon. Here the same shape, held still: a titled process with a titled child, and a titled
  // process of its own (a real second daemon).
  it("counts a titled process whose parent is a daemon of the home as that daemon's child, not a daemon", async () => {
    const home = `/tmp/devctl-fake-home-${process.pid}-${Date.now()}`;
    const title = `PM2 v0.0.0: God Daemon (${home})`;
    // process.title may not grow past the original argv: the padding argument makes room.
    const padding = 'x'.repeat(title.length + 16);
    const script = `process.title = ${JSON.stringify(title)};
if (process.env.WITH_CHILD) require('node:child_process').spawn(process.execPath, ['-e', process.env.SCRIPT, ${JSON.stringify(padding)}], { stdio: ['ignore', 'inherit', 'inherit'], env: { PATH: process.env.PATH, SCRIPT: process.env.SCRIPT } });
console.log('titled');
setInterval(() => {}, 1000);`;
    const daemon = spawnProcess(process.execPath, ['-e', script, padding], {
      env: { PATH: process.env.PATH, WITH_CHILD: '1', SCRIPT: script },
      name: 'fake daemon with a child',
    });
    const stray = spawnProcess(process.execPath, ['-e', script, padding], {
      env: { PATH: process.env.PATH, SCRIPT: script },
      name: 'fake second daemon',
    });
    try {
      await daemon.waitForOutput(/titled\ntitled/, 20_000);
      await stray.waitForOutput(/titled/, 20_000);
      const titled = readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().endsWith(title);
          } catch {
            return false; // exited while listed
          }
        });
      // Three processes carry the title (the child included); two of them are daemons.
      expect(titled).toHaveLength(3);
      expect(daemonProcesses(home).sort()).toEqual([daemon.pid, stray.pid].sort());
    } finally {
      await killTree(daemon.pid, 'SIGKILL');
      await killTree(stray.pid, 'SIGKILL');
    }
  }, 60_000);
});

describe('the bound of a lock wait', () => {
  it.each([
    [undefined, 300_000],
    ['', 300_000],
    ['0', 0],
    ['2.5', 2500],
  ])('DEVCTL_LOCK_TIMEOUT=%j waits %d ms', (value, expected) => {
    expect(lockTimeoutMs(value === undefined ? {} : { DEVCTL_LOCK_TIMEOUT: value })).toBe(expected);
  });

  it.each(['soon', '-1'])('DEVCTL_LOCK_TIMEOUT=%j is a usage error naming the variable', (value) => {
    expect(() => lockTimeoutMs({ DEVCTL_LOCK_TIMEOUT: value })).toThrow(
      /DEVCTL_LOCK_TIMEOUT must be a number of seconds/,
    );
  });

  it('a namespace becomes a safe file name', () => {
    expect(stackLockPath('/h', 'devstack')).toBe('/h/devctl-locks/stack-devstack.lock');
    expect(stackLockPath('/h', '../x y')).toBe('/h/devctl-locks/stack-..%2fx%20y.lock');
  });
});

function ensureDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
}
