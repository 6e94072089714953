// Shared by the two crash-loop lifecycle tests (lifecycle-crash-loop.test.ts: restart after the
// fix; lifecycle-crash-loop-start-delete.test.ts: start after the fix, delete): the fixture service
// that crash-loops at start (FIXTURE_MODE=crash in the ecosystem's env), the delays that sweep
// PM2's back-off cycle, and the step that breaks it. Two files, each with its own fixture and PM2
// daemon, so the two sweeps run in two lanes of the test run instead of one after the other.
import { createFixture, type Fixture, type ScriptApp } from './fixtures/harness';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// 8 rounds by default keep `pnpm test` short; CRASH_LOOP_ROUNDS=30 is the long sweep (30/30 measured).
export const ROUNDS = Number(process.env.CRASH_LOOP_ROUNDS ?? 8);
/**
 * Delays after the break, in ms: the whole first 2.3 s of the back-off for any number of rounds,
 * in uneven steps (each round also shifted by a prime-sized offset), so no two runs of PM2's cycle
 * are hit at the same phase.
 */
export const delays = Array.from(
  { length: ROUNDS },
  (_, i) => Math.round((i * 2300) / ROUNDS + ((i * 173) % 97)) % 2300,
);

export const flaky = (mode: string): ScriptApp => ({
  name: 'flaky',
  mode,
  // Long enough a loop that PM2 never gives up (errored) during a round.
  app: { max_restarts: 1000, min_uptime: 1000, exp_backoff_restart_delay: 100 },
});

export interface RestartReport {
  ok: boolean;
  services: { name: string; ok: boolean; healthy: boolean | null; pid: number | null; failure: unknown }[];
  logLines: { text: string }[];
  verdict: { healthy: boolean };
}

/** A fixture whose flaky service was started healthy. */
export async function startedFixture(): Promise<Fixture> {
  const fixture = await createFixture([flaky('ok')]);
  const started = await fixture.devctl(['start', 'flaky', '--wait']);
  if (started.code !== 0) {
    await fixture.cleanup();
    throw new Error(`devctl start flaky --wait failed: ${started.stdout}${started.stderr}`);
  }
  return fixture;
}

/**
 * Puts flaky into a crash loop (the ecosystem's env says crash; restart without waiting for
 * health); undefined when that worked, else what went wrong. The restart itself must succeed.
 */
export async function breakIt(fixture: Fixture): Promise<string | undefined> {
  fixture.writeEcosystem([flaky('crash')]);
  const broken = await fixture.devctl(['restart', 'flaky']);
  return broken.code === 0 ? undefined : `the breaking restart failed: ${broken.stdout} ${broken.stderr}`;
}
