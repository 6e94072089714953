#!/usr/bin/env node
// `pnpm bench test-suite`: how long README command 2's `pnpm test` takes here, and how much CPU
// it burns. Runs it RUNS times (default 3) with turbo's cache off (TURBO_FORCE: every test runs,
// as on a fresh clone), one after the other, and prints the median wall time and the median of
// the machine's busy CPU-seconds (/proc/stat: every process counts, PM2 daemons and the services
// they run included, which `time` misses), next to the anchors of issue #16: the 4.5 min target
// and the 10 min 33 s measured before the CPU work of session 6.
//
// On 2 cores the suite is CPU-bound (busy CPU / wall ~ 1.9): a faster suite is one that burns
// less CPU, which is why both figures are printed. Run it on a quiet machine: anything else
// running counts in the CPU figure and slows the wall time.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.RUNS ?? 3);
const TARGET_S = 270;
const BEFORE_S = 633;

/** Busy jiffies of the whole machine (user, nice, system, irq, softirq, steal). */
function busyJiffies() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return user + nice + system + irq + softirq + steal;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const walls = [];
const cpus = [];
for (let run = 1; run <= runs; run++) {
  const busyBefore = busyJiffies();
  const started = performance.now();
  const result = spawnSync('pnpm', ['test'], {
    cwd: root,
    env: { ...process.env, TURBO_FORCE: 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const wall = (performance.now() - started) / 1000;
  // USER_HZ is 100 on Linux.
  const cpu = (busyJiffies() - busyBefore) / 100;
  console.log(
    `run ${run}/${runs}: pnpm test exit ${result.status ?? result.signal}, ${wall.toFixed(0)} s wall, ${cpu.toFixed(0)} busy CPU-s`,
  );
  if (result.status !== 0) {
    // The failing tests by name (vitest's FAIL lines, turbo's list of failed tasks): a bench run
    // that failed on a load flake said only "exit 1", and its output was gone.
    const failures = stripVTControlCharacters(result.stdout ?? '')
      .split('\n')
      .filter((line) => /\bFAIL\b|Failed:/.test(line));
    for (const line of [...new Set(failures)].slice(0, 40)) console.log(`  ${line.trim()}`);
    console.log(
      "a failing run is no measurement: fix the failure first (each package's whole output: <package>/.turbo/turbo-test.log)",
    );
    process.exit(1);
  }
  walls.push(wall);
  cpus.push(cpu);
}
const wall = median(walls);
const cpu = median(cpus);
console.log(
  `pnpm test, median of ${runs}: ${wall.toFixed(0)} s wall, ${cpu.toFixed(0)} busy CPU-s (${(cpu / wall).toFixed(2)} cores)`,
);
console.log(`  vs 10 min 33 s before session 6: ${(wall / BEFORE_S).toFixed(2)}x`);
console.log(`  vs the 4.5 min target:           ${(wall / TARGET_S).toFixed(2)}x`);
