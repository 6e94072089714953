// A variable removed from an app's env in ecosystem.config.js is gone after `devctl restart`. PM2
// keeps every variable a process ever had across restarts (restartProcessId extends the stored env
// with the new one): trial 18's fixer deleted WORKER_POLL_INTERVAL_MS from worker-service's env,
// restarted, got "healthy", and the worker still polled every minute. A real PM2 daemon in a private
// PM2_HOME; what the new process got is read from /proc/<pid>/environ.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson, type ScriptApp } from './fixtures/harness';

interface StatusJson {
  services: { name: string; status: string; pid: number | null; restarts: number }[];
}

const app = (env: Record<string, string>): ScriptApp[] => [{ name: 'alpha-service', env }];

/** The environment a process was started with. */
function environ(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture(app({ POLL_INTERVAL_MS: '60000', GREETING: 'hello' }));
}, 30_000);
afterAll(async () => {
  await fixture?.cleanup();
});

async function pidOf(): Promise<number> {
  const status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
  const alpha = status.services.find((s) => s.name === 'alpha-service');
  expect(alpha?.status).toBe('online');
  return alpha?.pid as number;
}

describe('devctl restart after ecosystem.config.js changed an env', () => {
  it('a changed value is the new one (PM2 applies it)', async () => {
    const started = await fixture.devctl(['start', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    expect(environ(await pidOf())).toMatchObject({ POLL_INTERVAL_MS: '60000', GREETING: 'hello' });
    fixture.writeEcosystem(app({ POLL_INTERVAL_MS: '60000', GREETING: 'bonjour' }));
    const restarted = await fixture.devctl(['restart', 'alpha-service', '--wait']);
    expect(restarted.code, restarted.stdout + restarted.stderr).toBe(0);
    expect(environ(await pidOf())).toMatchObject({ POLL_INTERVAL_MS: '60000', GREETING: 'bonjour' });
  }, 90_000);

  it('a removed variable is gone, the others kept, and the verdict is healthy', async () => {
    fixture.writeEcosystem(app({ GREETING: 'bonjour' }));
    const restarted = await fixture.devctl(['restart', 'alpha-service', '--wait']);
    expect(restarted.code, restarted.stdout + restarted.stderr).toBe(0);
    // Said, since the app is a new one in PM2 (its restarts count from zero).
    expect(restarted.stdout).toContain(
      'launched afresh: ecosystem.config.js no longer sets POLL_INTERVAL_MS (a PM2 restart keeps a removed variable)',
    );
    const env = environ(await pidOf());
    expect(env.POLL_INTERVAL_MS).toBeUndefined();
    expect(env.GREETING).toBe('bonjour');
    // A second restart with nothing removed is PM2's own restart again: still on the file's env.
    const again = await fixture.devctl(['restart', 'alpha-service', '--wait']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(environ(await pidOf()).POLL_INTERVAL_MS).toBeUndefined();
  }, 90_000);

  it('a variable added by a restart and removed at the next is gone too', async () => {
    // The variable was never in the app's env at its launch: only the restart that added it knows it.
    fixture.writeEcosystem(app({ GREETING: 'bonjour', BATCH_SIZE: '500' }));
    const added = await fixture.devctl(['restart', 'alpha-service', '--wait']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(environ(await pidOf()).BATCH_SIZE).toBe('500');
    const again = await fixture.devctl(['restart', 'alpha-service', '--wait']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    fixture.writeEcosystem(app({ GREETING: 'bonjour' }));
    const removed = await fixture.devctl(['restart', 'alpha-service', '--wait']);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(environ(await pidOf()).BATCH_SIZE).toBeUndefined();
  }, 90_000);
});
