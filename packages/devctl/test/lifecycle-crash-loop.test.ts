// restart of a crash-looping service at many moments of PM2's cycle, on a real daemon.
// The fixture service crashes at start (FIXTURE_MODE=crash in the ecosystem's env); PM2 relaunches
// it after an exponential back-off (100 ms, 150, 225, ... as the real ecosystem configures it).
// The fix is the user's edit (the ecosystem's env flipped back to ok), then one
// `restart --wait`: it must take at the first call, whatever PM2 is doing at that moment (waiting
// out the back-off, launching, or just relaunched), and run the configuration asked for. The delays
// sweep the back-off cycle in uneven steps. start and delete at the same moments:
// lifecycle-crash-loop-start-delete.test.ts (its own fixture, so both sweeps run at once).
//
// Prints the figure: `restarts that took at the first call: N/M`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixtures/harness';
import { parseJson } from './fixtures/harness';
import {
  breakIt,
  delays,
  flaky,
  type RestartReport,
  sleep,
  startedFixture,
} from './lifecycle-crash-loop-helpers';

describe('restart of a crash-looping service, at many moments of PM2 back-off', () => {
  let fixture: Fixture;
  const outcomes: { delay: number; took: boolean; detail: string }[] = [];

  beforeAll(async () => {
    fixture = await startedFixture();
  });
  afterAll(async () => {
    console.log(
      `restarts that took at the first call: ${outcomes.filter((o) => o.took).length}/${outcomes.length}`,
    );
    await fixture?.cleanup();
  });

  it('restart --wait after the fix takes at the first call, on the fixed configuration', async () => {
    for (const delay of delays) {
      const breakFailed = await breakIt(fixture);
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
});
