// restart and delete of a crash-looping service at many moments of PM2's cycle, on a real daemon.
// The fixture service crashes at start (FIXTURE_MODE=crash in the ecosystem's env); PM2 relaunches
// it after an exponential back-off (100 ms, 150, 225, ... as the real ecosystem configures it).
// The fix is the user's edit (the ecosystem's env flipped back to ok), then one
// `restart --wait`: it must take at the first call, whatever PM2 is doing at that moment (waiting
// out the back-off, launching, or just relaunched), and run the configuration asked for. `delete`
// at any moment must leave nothing holding the port, also a second later (no relaunch that PM2
// had already begun before the delete). The delays sweep the back-off cycle in uneven steps.
//
// Prints the figure: `restarts that took at the first call: N/M`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningInodes } from '../src/ports/holders';
import { createFixture, type Fixture, type FixtureApp, parseJson } from './fixtures/stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// 8 rounds by default keep `pnpm test` short; CRASH_LOOP_ROUNDS=30 is the long sweep (30/30 measured).
const ROUNDS = Number(process.env.CRASH_LOOP_ROUNDS ?? 8);
/**
 * Delays after the break, in ms: the whole first 2.3 s of the back-off for any number of rounds,
 * in uneven steps (each round also shifted by a prime-sized offset), so no two runs of PM2's cycle
 * are hit at the same phase.
 */
const delays = Array.from(
  { length: ROUNDS },
  (_, i) => Math.round((i * 2300) / ROUNDS + ((i * 173) % 97)) % 2300,
);

const flaky = (mode: string): FixtureApp => ({
  name: 'flaky',
  mode,
  // Long enough a loop that PM2 never gives up (errored) during a round.
  app: { max_restarts: 1000, min_uptime: 1000, exp_backoff_restart_delay: 100 },
});

interface RestartReport {
  ok: boolean;
  services: { name: string; ok: boolean; healthy: boolean | null; pid: number | null; failure: unknown }[];
  logLines: { text: string }[];
  verdict: { healthy: boolean };
}

describe('restart and delete of a crash-looping service, at many moments of PM2 back-off', () => {
  let fixture: Fixture;
  const outcomes: { delay: number; took: boolean; detail: string }[] = [];

  beforeAll(async () => {
    fixture = await createFixture([flaky('ok')]);
    const started = await fixture.devctl(['start', 'flaky', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
  });
  afterAll(async () => {
    console.log(
      `restarts that took at the first call: ${outcomes.filter((o) => o.took).length}/${outcomes.length}`,
    );
    await fixture?.cleanup();
  });

  /**
   * Puts flaky into a crash loop (the ecosystem's env says crash; restart without waiting for
   * health); undefined when that worked, else what went wrong. The restart itself must succeed.
   */
  async function breakIt(): Promise<string | undefined> {
    fixture.writeEcosystem([flaky('crash')]);
    const broken = await fixture.devctl(['restart', 'flaky']);
    return broken.code === 0 ? undefined : `the breaking restart failed: ${broken.stdout} ${broken.stderr}`;
  }

  it('restart --wait after the fix takes at the first call, on the fixed configuration', async () => {
    for (const delay of delays) {
      const breakFailed = await breakIt();
      if (breakFailed) {
        outcomes.push({ delay, took: false, detail: breakFailed });
        continue;
      }
      await sleep(delay);
      fixture.writeEcosystem([flaky('ok')]);
      const result = await fixture.devctl(['restart', 'flaky', '--wait', '--json']);
      let took = false;
      let detail = `exit ${result.code}: ${result.stdout.slice(0, 600)} ${result.stderr.slice(0, 600)}`;
      if (result.code === 0) {
        const report = parseJson<RestartReport>(result);
        const service = report.services[0];
        // The process that answers runs the configuration asked for: its own start line says so.
        const fixed = report.logLines.some((l) => l.text.includes(`mode ok, pid ${service?.pid})`));
        took = report.ok && service?.healthy === true && report.verdict.healthy && fixed;
        detail = took ? 'ok' : `exit 0 but not on the fixed run: ${result.stdout.slice(0, 800)}`;
      }
      if (!took && process.env.CRASH_LOOP_DEBUG) {
        const { copyFileSync } = await import('node:fs');
        copyFileSync(`${fixture.home.home}/pm2.log`, `${process.env.CRASH_LOOP_DEBUG}.pm2.log`);
        const { writeFileSync } = await import('node:fs');
        writeFileSync(`${process.env.CRASH_LOOP_DEBUG}.out`, `${result.stdout}\n${result.stderr}`);
      }
      outcomes.push({ delay, took, detail });
    }
    const failed = outcomes.filter((o) => !o.took);
    expect(failed, failed.map((f) => `after ${f.delay} ms: ${f.detail}`).join('\n')).toEqual([]);
  }, 600_000);

  it('start after the fix brings a crash-looping service up at the first call, on the fixed configuration', async () => {
    const failures: string[] = [];
    for (const delay of delays.slice(0, 4)) {
      const breakFailed = await breakIt();
      if (breakFailed) {
        failures.push(breakFailed);
        continue;
      }
      await sleep(delay);
      fixture.writeEcosystem([flaky('ok')]);
      const result = await fixture.devctl(['start', 'flaky', '--wait', '--json']);
      const service = result.code === 0 ? parseJson<RestartReport>(result).services[0] : undefined;
      const log = readFileSync(join(fixture.dir('flaky'), 'logs', 'out.log'), 'utf8');
      if (!service?.healthy || !log.includes(`mode ok, pid ${service.pid})`)) {
        failures.push(`after ${delay} ms: exit ${result.code}: ${result.stdout} ${result.stderr}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('delete at any moment of the loop leaves nothing on the port, also a second later', async () => {
    const port = fixture.ports.flaky as number;
    const leftovers: string[] = [];
    const rounds = Math.ceil(ROUNDS / 2);
    for (const delay of delays.slice(0, rounds)) {
      fixture.writeEcosystem([flaky('crash')]);
      const started = await fixture.devctl(['start', 'flaky']);
      if (started.code !== 0) {
        leftovers.push(`after ${delay} ms: start failed: ${started.stdout} ${started.stderr}`);
        continue;
      }
      await sleep(delay);
      const deleted = await fixture.devctl(['delete', 'flaky', '--json']);
      if (deleted.code !== 0) leftovers.push(`after ${delay} ms: delete failed: ${deleted.stdout}`);
      const now = listeningInodes(port).length;
      // A relaunch PM2 had begun before the delete would come up within its start-up time.
      await sleep(1500);
      const later = listeningInodes(port).length;
      const list = await fixture.pm2(['jlist']);
      const inPm2 = list.stdout.includes('"name":"flaky"');
      if (now > 0 || later > 0 || inPm2) {
        leftovers.push(`after ${delay} ms: port held ${now}/${later}, still in PM2: ${inPm2}`);
      }
    }
    console.log(`deletes that left nothing behind: ${rounds - leftovers.length}/${rounds}`);
    expect(leftovers).toEqual([]);
  }, 600_000);
});
