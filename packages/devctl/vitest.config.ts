import { defineConfig } from 'vitest/config';

// 'source' resolves workspace packages to their TypeScript, so tests never run stale dist/ output.
// The global setup builds dist/ once: end-to-end tests run the real bin.
// Three files at once, whatever the core count (vitest's default is cores - 1, one file at a time
// on 2 cores): every end-to-end file works in its own temporary root, PM2_HOME and free ports, and
// spends most of its time waiting on the processes it started, which is what the other files fill.
// init-e2e alone takes a third of the package's time, so one lane is mostly its own.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/fixtures/global-setup.ts'],
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
