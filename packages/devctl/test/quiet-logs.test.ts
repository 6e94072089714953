// Logs hold what the services did, not how often they were asked whether they are alive: on the
// repository's own seven services under PM2, ten `devctl status` (each probes every /health), ten
// `GET /api/health` (the gateway probes every service) and an idle stack (the worker polls the
// queue every 500 ms) add no line to any service's log, while a job the worker claims is logged.
//
// Lines are counted between two sentinel requests (a 404 with a known request id, logged by every
// service): what lies between them in out.log is what the measured action wrote, whatever PM2's
// write delay. `QUIET_IDLE_WINDOW_MS` lengthens the idle window (60000 measures a whole minute).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RealStack, startRealStack } from './fixtures/real-stack';

let stack: RealStack;
let sentinelCount = 0;

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

/** Sends a logged request with a unique id to every service, and waits until each has logged it. */
async function sentinel(): Promise<{ id: string; errLines: Record<string, number> }> {
  const id = `sentinel-${process.pid}-${++sentinelCount}`;
  for (const name of stack.names) {
    const response = await fetch(stack.url(name, '/__sentinel__'), { headers: { 'x-request-id': id } });
    expect(response.status).toBe(404);
  }
  const deadline = Date.now() + 30_000;
  for (const name of stack.names) {
    while (
      !lines(stack.logFiles(name).out).some((l) => l.includes(`"reqId":"${id}"`) && l.includes('completed'))
    ) {
      if (Date.now() > deadline) throw new Error(`${name} did not log the sentinel ${id}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const errLines = Object.fromEntries(stack.names.map((n) => [n, lines(stack.logFiles(n).err).length]));
  return { id, errLines };
}

/** The lines each service wrote between two sentinels (out.log exactly, error.log by count). */
function between(
  from: Awaited<ReturnType<typeof sentinel>>,
  to: Awaited<ReturnType<typeof sentinel>>,
): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const name of stack.names) {
    const out = lines(stack.logFiles(name).out);
    let start = -1;
    let end = out.length;
    out.forEach((line, index) => {
      if (line.includes(`"reqId":"${from.id}"`)) start = index;
      if (end === out.length && line.includes(`"reqId":"${to.id}"`)) end = index;
    });
    const err = lines(stack.logFiles(name).err).slice(from.errLines[name], to.errLines[name]);
    result[name] = [...out.slice(start + 1, end), ...err];
  }
  return result;
}

/**
 * What a successful probe must not leave. A probe slower than the kit's threshold (1 s) is logged
 * on purpose, with `"slow":true`: on a loaded machine that can happen, and it is not noise.
 */
const notSlow = (written: Record<string, string[]>) =>
  Object.fromEntries(
    Object.entries(written).map(([name, l]) => [name, l.filter((line) => !line.includes('"slow":true'))]),
  );

const counts = (written: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(written).map(([name, l]) => [name, l.length]));

beforeAll(async () => {
  stack = await startRealStack({
    // No cron run inside the measured windows: the hourly purge could fall in one otherwise.
    // A generous bound on the gateway's fan-out: on a loaded machine a probe may take over 1 s.
    env: { PURGE_CRON: '0 0 1 1 *', DIGEST_CRON: '0 0 1 1 *', HEALTH_PROBE_TIMEOUT_MS: '5000' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
});

describe('the logs of a running stack hold what it did', () => {
  it('ten `devctl status` add no line to any service log', async () => {
    const before = await sentinel();
    for (let i = 0; i < 10; i++) {
      const result = await stack.devctl('status', '--json');
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as {
        services: { name: string; health: { ok: boolean } | null }[];
      };
      // The control: devctl probed every service (a probe slow enough to time out on a loaded
      // machine still reached it).
      for (const name of stack.names) {
        expect(report.services.find((s) => s.name === name)?.health, name).toBeTruthy();
      }
    }
    const after = await sentinel();
    const written = between(before, after);
    console.log('lines added by ten devctl status:', counts(written));
    expect(notSlow(written)).toEqual(Object.fromEntries(stack.names.map((n) => [n, []])));
  });

  it("ten GET /api/health (the gateway's fan-out) and a diagnose add no line", async () => {
    const before = await sentinel();
    for (let i = 0; i < 10; i++) {
      const response = await fetch(stack.url('api-gateway', '/api/health'));
      const body = (await response.json()) as { status: string; down: string[] };
      expect(body, JSON.stringify(body)).toMatchObject({ status: 'ok', down: [] });
    }
    const diagnose = await stack.devctl('diagnose', '--json');
    // The control: diagnose probed every /health and /ready (its findings are not this test's).
    const { checked } = JSON.parse(diagnose.stdout) as { checked: string[] };
    for (const name of stack.names) {
      expect(checked.find((line) => line.startsWith(`${name}: `))).toMatch(/\/health 200, \/ready 200/);
    }
    const after = await sentinel();
    const written = between(before, after);
    console.log('lines added by ten GET /api/health and one diagnose:', counts(written));
    expect(notSlow(written)).toEqual(Object.fromEntries(stack.names.map((n) => [n, []])));
  });

  it('an idle stack writes almost nothing while the worker polls', async () => {
    const windowMs = Number(process.env.QUIET_IDLE_WINDOW_MS ?? 15_000);
    const before = await sentinel();
    const started = Date.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const after = await sentinel();
    // The control: the worker kept polling during the window.
    const worker = (await (await fetch(stack.url('worker-service', '/worker'))).json()) as {
      polling: boolean;
      lastClaimAt: string;
    };
    expect(worker.polling).toBe(true);
    expect(Date.parse(worker.lastClaimAt)).toBeGreaterThan(started + windowMs / 2);

    const written = between(before, after);
    const minutes = (Date.now() - started) / 60_000;
    console.log(`lines added by an idle stack in ${Math.round(minutes * 60)} s:`, counts(written));
    // "A handful" per minute at most, per service and for the whole stack.
    for (const [name, l] of Object.entries(written)) {
      expect(l.length / minutes, `${name}:\n${l.join('\n')}`).toBeLessThanOrEqual(5);
    }
    const total = Object.values(written).reduce((sum, l) => sum + l.length, 0);
    expect(total / minutes).toBeLessThanOrEqual(10);
  }, 180_000);

  it('a poll that claims a job logs the job, in data-service and in the worker', async () => {
    const before = await sentinel();
    const enqueued = await fetch(stack.url('data-service', '/jobs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'send-digest-email',
        idempotencyKey: `quiet-logs-${process.pid}`,
        payload: { ownerId: 'u1', email: 'owner@example.test', date: '2026-01-01', since: 'x', forms: [] },
      }),
    });
    expect(enqueued.status).toBe(201);
    const job = (await enqueued.json()) as { id: string };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = (await (await fetch(stack.url('data-service', `/jobs/${job.id}`))).json()) as {
        status: string;
      };
      if (state.status === 'done') break;
      if (Date.now() > deadline) throw new Error(`job ${job.id} is still ${state.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = await sentinel();
    const written = between(before, after);
    const claimed = written['data-service']?.filter((l) => l.includes(job.id) && /claim/i.test(l)) ?? [];
    expect(claimed.length, written['data-service']?.join('\n')).toBeGreaterThan(0);
    expect(claimed[0]).toMatch(/"reqId":"[^"]+"/);
    expect(written['worker-service']?.some((l) => l.includes(`job ${job.id} (send-digest-email) done`))).toBe(
      true,
    );
  }, 60_000);
});
