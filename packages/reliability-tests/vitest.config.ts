import { longestFirst, packageConfig } from '../test-utils/vitest.shared.js';

// The fast checks (`pnpm test`): bad input against the real stack, security defaults, crash
// recovery under PM2, bounded logs. The long load-and-chaos test runs only with `pnpm test:chaos`.
// Each file starts its own stack on free ports under its own PM2_HOME, so two files never share a
// port, a daemon or a data folder: two run at once. Most of their time is spent waiting (PM2's
// restart back-off, health polls, a load that runs until the restarts are done), which is what a
// second file fills; no test asserts a duration, so the extra load only slows them.
// The longest files start first (measured on a loaded machine: crash-recovery -- a graceful restart
// under load, kill -9 of each service, then of the daemon, on one stack -- ~150 s, replicas and
// security-defaults 90-120 s, bad-ecosystem ~70 s, log-rotation ~60 s), so the two lanes end together.
export default packageConfig({
  // A fresh module graph per file (the workspace default shares one per worker): every file here
  // starts a whole stack, whose processes are nearly all of its CPU; imports are not worth the risk.
  isolate: true,
  include: ['test/**/*.test.ts'],
  exclude: ['test/**/*.chaos.test.ts'],
  maxWorkers: 2,
  testTimeout: 180_000,
  hookTimeout: 180_000,
  sequence: {
    sequencer: longestFirst([
      'test/crash-recovery.test.ts',
      'test/replicas.test.ts',
      'test/security-defaults.test.ts',
      'test/log-rotation.test.ts',
    ]),
  },
});
