// The PM2 daemon killed with SIGKILL under a running stack (started by devctl, private PM2_HOME,
// generated ecosystem on free ports). `devctl status` must say the daemon is down and how to
// recover; `devctl start` must bring the stack back under a new daemon, every service healthy and
// PM2-managed again. The services the dead daemon had started are orphans now: the test records
// their PIDs and kills them at the end whatever happened.
import { isAlive, killTree } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_JOBS_ENV } from '../src/ecosystem';
import { call, pollUntil } from '../src/http';
import { createPm2Stack, type Pm2Stack } from '../src/pm2';

let stack: Pm2Stack;
const orphans: number[] = [];
/** What `devctl status` printed once the daemon was gone (the first two tests read it). */
let statusAfterKill = '';

beforeAll(async () => {
  stack = await createPm2Stack({ logLevel: 'warn', envFor: NO_JOBS_ENV });
  const started = await stack.devctl(['start', '--wait', '--no-build', '--timeout', '120']);
  expect(started.code, started.stdout + started.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  for (const pid of orphans) if (isAlive(pid)) await killTree(pid, 'SIGKILL').catch(() => undefined);
  await stack?.stop();
});

describe('the PM2 daemon is killed', () => {
  it('devctl status says the daemon is down and how to recover, and exits 0', async () => {
    const daemon = stack.pm2Home.daemonPid() as number;
    const before = await stack.list();
    for (const p of before) if (p.pid > 0) orphans.push(p.pid);
    // The seven services and the log rotator (a tool app).
    expect(orphans.length).toBe(stack.ecosystem.apps.length);
    const rotator = before.find((p) => p.name === 'devctl-logrotate')?.pid as number;
    expect(rotator, 'the log rotator runs with the stack').toBeGreaterThan(0);
    process.kill(daemon, 'SIGKILL');
    await pollUntil(
      () => isAlive(daemon),
      (alive) => !alive,
      10_000,
      50,
    );
    // The services live on as orphans; the rotator does not: it exits when its daemon is gone, so
    // the next daemon's rotator is the only one rotating these files.
    const rotatorExited = await pollUntil(() => !isAlive(rotator), Boolean, 10_000, 100);
    expect(rotatorExited, `the orphaned rotator (pid ${rotator}) still runs`).toBe(true);

    const status = await stack.devctl(['status']);
    const text = `${status.stdout}${status.stderr}`;
    statusAfterKill = text;
    console.log(`devctl status after the daemon was killed (exit ${status.code}):\n${text}`);
    expect(text).toMatch(/daemon/i);
    expect(text).toMatch(/not running|down|no PM2 daemon/i);
    expect(text).toMatch(/devctl start|pm2:start/);
    const json = await stack.devctl(['status', '--json']);
    expect(() => JSON.parse(json.stdout), json.stdout + json.stderr).not.toThrow();
  }, 120_000);

  // After a SIGKILL of the daemon its services live on as orphans, still answering on their ports.
  // devctl recognises them (a port of the ecosystem held by the app's own script in its cwd):
  // status lists them, and start replaces them with PM2-managed processes.
  // The same answer the test above read: nothing changed in between, so no second devctl run.
  it('devctl status reports the services still running without PM2', () => {
    expect(statusAfterKill, 'the test above ran devctl status').not.toBe('');
    expect(statusAfterKill).toMatch(new RegExp(`${orphans[0]}|without PM2|orphan|still running`, 'i'));
  });

  it('devctl start alone brings the stack back', async () => {
    const started = await stack.devctl(['start', '--wait', '--no-build', '--timeout', '60']);
    console.log(
      `devctl start with the orphans still running (exit ${started.code}):\n${started.stdout}${started.stderr}`,
    );
    expect(started.code).toBe(0);
  }, 120_000);

  it('the documented recovery works: stop the orphans by PID, then devctl start; every service healthy and PM2-managed', async () => {
    const doctor = await stack.devctl(['doctor']);
    console.log(
      `devctl doctor with the orphans running (exit ${doctor.code}):\n${doctor.stdout}${doctor.stderr}`,
    );
    for (const pid of orphans) if (isAlive(pid)) process.kill(pid, 'SIGTERM');
    await pollUntil(
      () => orphans.filter(isAlive),
      (alive) => alive.length === 0,
      30_000,
      100,
    );
    const started = await stack.devctl(['start', '--wait', '--no-build', '--timeout', '120']);
    const text = `${started.stdout}${started.stderr}`;
    expect(started.code, text).toBe(0);
    const list = await stack.list();
    expect(list.map((p) => `${p.name} ${p.pm2_env.status}`).sort()).toEqual(
      stack.ecosystem.apps.map((app) => `${app.name} online`).sort(),
    );
    for (const name of stack.ecosystem.services) {
      const health = await call<{ pid: number }>(stack.ecosystem.urls[name] as string, 'GET', '/health');
      expect(health.status, `${name}: ${health.describe}`).toBe(200);
      // The process answering is the one the new daemon manages, not an orphan of the old one.
      expect(health.body.pid, name).toBe(list.find((p) => p.name === name)?.pid);
    }
    const signup = await call(stack.ecosystem.gatewayUrl, 'POST', '/api/auth/signup', {
      body: { email: `after-daemon-${Date.now()}@example.com`, password: 'daemon came back' },
    });
    expect(signup.status, signup.describe).toBe(201);
  }, 240_000);
});
