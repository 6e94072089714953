// A service run as several PM2 instances (cluster mode, `instances: 2`), against a real daemon in a
// private PM2_HOME: `start --wait` waits for both, `status` shows one line with N/N online, `logs`
// merges the instances' files labelled by PM2 id, and `restart --wait` restarts them one at a time
// (the port answers throughout) and returns once both run new processes.
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson } from './fixtures/harness';
import { nameOf, pm2Processes } from './fixtures/pm2-list';

interface InstancesStatus {
  services: {
    name: string;
    status: string;
    instances: { online: number; total: number };
    restarts: number;
  }[];
}

interface Pm2Entry {
  name: string;
  pm_id: number;
  pid: number;
  pm2_env: { status: string };
}

/**
 * One GET on a connection of its own: undefined when it answered 200, else what went wrong (with
 * the socket error's code). "The port keeps answering" is about new connections: a keep-alive
 * socket (fetch's pool) held by an instance that is being replaced is closed by that instance's
 * server.close(), and a request written on it at that moment fails with ECONNRESET or undici's
 * "other side closed" -- a client-side HTTP/1.1 race that says nothing about the port (measured:
 * 2-3 such failures per restart with three keep-alive probers). New connections did show a real
 * fault: one accepted by the PM2 daemon and handed to an instance that exited at once was never
 * answered (a probe hung 60 s) -- fixed in the fixture server and the kit, which now disconnect
 * from the primary before exiting; the timeout here catches it again.
 */
function probeOnNewConnection(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = httpGet(url, { agent: false, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve(response.statusCode === 200 ? undefined : `status ${response.statusCode}`),
      );
      response.on('error', (error: NodeJS.ErrnoException) => resolve(`${error.code ?? ''} ${error.message}`));
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 5000 ms')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(`${error.code ?? ''} ${error.message}`));
  });
}

describe('a service with several PM2 instances', () => {
  let fixture: Fixture;
  const cluster = { exec_mode: 'cluster', instances: 2, merge_logs: false };

  /** PM2's own list (`pm2 jlist`'s getMonitorData), on the daemon's socket: no PM2 CLI per call. */
  const pm2List = async (): Promise<Pm2Entry[]> =>
    (await pm2Processes(fixture.home.home)).map((p) => ({
      name: nameOf(p) ?? '',
      pm_id: Number(p.pm_id ?? p.pm2_env?.pm_id),
      pid: Number(p.pid),
      pm2_env: { status: String(p.pm2_env?.status) },
    }));
  const status = async () => {
    const result = await fixture.devctl(['status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    return parseJson<InstancesStatus>(result).services.find((s) => s.name === 'api');
  };

  beforeAll(async () => {
    fixture = await createFixture([{ name: 'api', app: cluster }, { name: 'solo' }]);
    const started = await fixture.devctl(['start', '--wait'], { timeoutMs: 120_000 });
    expect(started.code, `${started.stdout}\n${started.stderr}`).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await fixture?.cleanup();
  }, 60_000);

  it('start --wait runs both instances, and status shows one line with 2/2 online', async () => {
    const api = (await pm2List()).filter((p) => p.name === 'api');
    expect(api.map((p) => p.pm2_env.status)).toEqual(['online', 'online']);
    expect(await status()).toMatchObject({ status: 'online', instances: { online: 2, total: 2 } });
    const text = await fixture.devctl(['status']);
    expect(text.stdout).toMatch(/^api\s+online 2\/2\s/m);
    expect(text.stdout).toMatch(/^solo\s+online\s/m); // a single instance stays as it was
    // The PM2 daemon holds a cluster's port: diagnose takes it for the service's, not an orphan's.
    const diagnosed = await fixture.devctl(['diagnose', 'api']);
    expect(diagnosed.code, diagnosed.stdout).toBe(0);
    expect(diagnosed.stdout).not.toMatch(/port-conflict/);
  });

  it('logs merges the instances, each line labelled with its PM2 id', async () => {
    const ids = (await pm2List()).filter((p) => p.name === 'api').map((p) => p.pm_id);
    const result = await fixture.devctl(['logs', 'api', '--lines', '50']);
    expect(result.code, result.stderr).toBe(0);
    for (const id of ids) expect(result.stdout).toMatch(new RegExp(`api\\[${id}\\]\\s.*api listening on`));
  });

  it('restart --wait restarts every instance, one at a time, while the port keeps answering', async () => {
    const before = (await pm2List()).filter((p) => p.name === 'api');
    const url = `http://127.0.0.1:${fixture.ports.api}/health`;
    let probes = 0;
    const failures: string[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        probes++;
        const failure = await probeOnNewConnection(url);
        if (failure) failures.push(failure);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const restarted = await fixture.devctl(['restart', 'api', '--wait'], { timeoutMs: 120_000 });
    probing = false;
    await prober;
    expect(restarted.code, `${restarted.stdout}\n${restarted.stderr}`).toBe(0);
    const after = (await pm2List()).filter((p) => p.name === 'api');
    expect(after.map((p) => p.pm2_env.status)).toEqual(['online', 'online']);
    for (const instance of after)
      expect(before.find((b) => b.pm_id === instance.pm_id)?.pid).not.toBe(instance.pid);
    expect(await status()).toMatchObject({ status: 'online', instances: { online: 2, total: 2 } });
    // Both were running: each was stopped only once the other was ready, so every probe was answered.
    expect(probes).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  }, 150_000);
  it('status names the instance that is down: 1/2 online', async () => {
    const [first] = (await pm2List()).filter((p) => p.name === 'api');
    await fixture.pm2(['stop', String(first?.pm_id)]);
    expect(await status()).toMatchObject({ status: 'stopped', instances: { online: 1, total: 2 } });
    // The other instance answers the port; diagnose still names the one that is down.
    const diagnosed = await fixture.devctl(['diagnose', 'api']);
    expect(diagnosed.stdout, diagnosed.stderr).toMatch(/api.*stopped|stopped.*api/);
    // ... and never takes the PM2 daemon, which listens for the instance still up, for an orphan.
    expect(diagnosed.stdout).not.toMatch(/port-conflict|God Daemon/);
  }, 60_000);

  it('stop takes every instance down and frees the port; start --wait brings both back', async () => {
    const stopped = await fixture.devctl(['stop', 'api']);
    expect(stopped.code, `${stopped.stdout}\n${stopped.stderr}`).toBe(0);
    expect(await status()).toMatchObject({ status: 'stopped', instances: { online: 0, total: 2 } });
    const url = `http://127.0.0.1:${fixture.ports.api}/health`;
    await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    const started = await fixture.devctl(['start', 'api', '--wait'], { timeoutMs: 120_000 });
    const list = (await pm2List()).map((p) => `${p.name} ${p.pm_id} ${p.pid} ${p.pm2_env.status}`);
    const pm2Log = readFileSync(join(fixture.home.home, 'pm2.log'), 'utf8').slice(-3000);
    expect(started.code, `${started.stdout}\n${started.stderr}\n${list.join('\n')}\n${pm2Log}`).toBe(0);
    expect(await status()).toMatchObject({ status: 'online', instances: { online: 2, total: 2 } });
  }, 150_000);
});
