import { longestFirst, packageConfig } from '../test-utils/vitest.shared.js';

// The global setup builds dist/ once: end-to-end tests run the real bin.
// Three files at once, whatever the core count (vitest's default is cores - 1, one file at a time
// on 2 cores): every end-to-end file works in its own temporary root, PM2_HOME and free ports, and
// spends most of its time waiting on the processes it started, which is what the other files fill.
// The files that take minutes start first (measured in CI: scaffold-e2e ~190 s, init-e2e ~100-130 s,
// the crash-loop sweeps ~150 s before they were split in two files, the live diagnose stacks
// 70-100 s): by size alone, vitest started init-e2e last, and the run waited two minutes for it.
// diagnose-resource is left out on purpose: it reads a busy loop's CPU share, which two full runs
// did not see while it ran beside the installs and type checks of the e2e files (load 20-30).
export default packageConfig({
  // One module graph per worker, as in every package (vitest.shared.ts): the whole suite took 744
  // CPU-s with a fresh graph per file and 643 without, run side by side (cgroup cpuacct); the 36
  // light files 61 -> 31. Session 6 kept a fresh graph because the live diagnose files (faults,
  // changes, config) failed in a shared one under load. They pass after the light files in one
  // worker; no file leaves a process, an env change or an exit code behind; and the same tests
  // failed in the fresh-graph run beside it: timing under load (a test over its 60 s, diagnose's
  // 10 s budget for the --print-config dry runs), not state carried from file to file.
  globalSetup: ['test/fixtures/global-setup.ts'],
  maxWorkers: 3,
  sequence: {
    sequencer: longestFirst([
      'test/scaffold-e2e.test.ts',
      'test/init-e2e.test.ts',
      'test/lifecycle-crash-loop.test.ts',
      'test/diagnose-chain.test.ts',
      'test/lifecycle-crash-loop-start-delete.test.ts',
      'test/quiet-logs.test.ts',
      'test/diagnose-faults.test.ts',
      'test/diagnose-changes.test.ts',
    ]),
  },
});
