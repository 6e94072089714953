/// <reference lib="dom" />
// The figures the README gives for `devctl dashboard` (not a check: timings are noisy, so nothing
// here asserts a duration). Runs only when asked:
//   cd packages/devctl && DEVCTL_MEASURE=1 pnpm exec vitest run test/dashboard-measure.test.ts
// - start time: from spawning `devctl dashboard --json` to its URL line, median of 7 runs;
// - idle CPU: the dashboard process's CPU time (/proc/<pid>/stat utime+stime) while Chromium keeps
//   its page open for 60 s on a healthy three-service stack, as a share of one core.
import { readFileSync } from 'node:fs';
import { spawnProcess } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type RunningChromium } from '../../../apps/web/e2e/chromium';
import { devctlBin, type FixtureStack, orderChain, startHealthyStack } from './fixtures/harness';

const apps = orderChain();
const TICKS_PER_SECOND = 100;
const IDLE_SECONDS = 60;

let stack: FixtureStack;
let chrome: RunningChromium | undefined;

function cpuTicks(pid: number): number {
  // Fields after the command (which may hold spaces): state is 3rd; utime and stime are 14th and 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe.skipIf(!process.env.DEVCTL_MEASURE)('devctl dashboard figures', () => {
  beforeAll(async () => {
    stack = await startHealthyStack(apps, { namespace: 'dashboard-measure' });
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await stack?.cleanup();
  }, 60_000);

  it('start time (median of 7) and idle CPU with the page open for a minute', async () => {
    const starts: number[] = [];
    for (let run = 0; run < 7; run++) {
      const started = performance.now();
      const bin = spawnProcess(process.execPath, [devctlBin, 'dashboard', '--json'], {
        cwd: stack.root,
        env: stack.env,
      });
      await bin.waitForOutput(/\{"url".*\}\n/, 20_000);
      starts.push(performance.now() - started);
      await bin.kill('SIGINT');
    }
    starts.sort((a, b) => a - b);
    const median = starts[3] as number;

    const bin = spawnProcess(process.execPath, [devctlBin, 'dashboard', '--json'], {
      cwd: stack.root,
      env: stack.env,
    });
    try {
      const url = (
        JSON.parse(/\{"url".*\}/.exec(await bin.waitForOutput(/\{"url".*\}\n/, 20_000))?.[0] ?? '{}') as {
          url: string;
        }
      ).url;
      chrome = await launchChromium();
      const page = await (await chrome.browser.newContext()).newPage();
      await page.goto(url);
      await page.waitForFunction(
        () => document.querySelector('[data-testid="live"]')?.textContent === 'live',
      );
      // Settle the first snapshot and the page's own load, then measure a quiet minute.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const before = cpuTicks(bin.pid);
      const snapshotsBefore = Number(
        await page.locator('[data-testid="live"]').getAttribute('data-snapshots'),
      );
      await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
      const cpuSeconds = (cpuTicks(bin.pid) - before) / TICKS_PER_SECOND;
      const snapshots =
        Number(await page.locator('[data-testid="live"]').getAttribute('data-snapshots')) - snapshotsBefore;
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${bin.pid}/status`, 'utf8'))?.[1]) / 1024;
      console.log(
        `devctl dashboard: start ${Math.round(median)} ms (median of 7: ${starts.map(Math.round).join(', ')}); ` +
          `idle with the page open: ${cpuSeconds.toFixed(2)} s CPU in ${IDLE_SECONDS} s = ${((cpuSeconds / IDLE_SECONDS) * 100).toFixed(2)}% of one core, ` +
          `${snapshots} status snapshots, RSS ${rss.toFixed(0)} MiB`,
      );
      expect(snapshots).toBeGreaterThan(0);
    } finally {
      await bin.kill('SIGINT');
    }
  }, 180_000);
});
