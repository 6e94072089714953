import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// One vitest process for both kinds of test (each vitest start costs 2-3 CPU-s on this machine, and
// `pnpm test` is CPU-bound): `pnpm test` runs both projects, `test:components` and `test:e2e` one each.
export default defineConfig({
  test: {
    projects: [
      {
        // Component tests: React in jsdom.
        plugins: [react()],
        resolve: { conditions: ['source'] },
        test: {
          name: 'components',
          environment: 'jsdom',
          include: ['src/**/*.test.{ts,tsx}'],
          setupFiles: ['src/test-setup.ts'],
          // Typing with user-event is slow on a loaded two-core machine; a bound, not a timing assertion.
          testTimeout: 60_000,
        },
      },
      {
        // Browser tests: real Chromium (Debian's /usr/bin/chromium) through playwright-core, against a
        // Vite dev server and, for the flow, the seven built services. One file at a time: each starts
        // its own processes, and the machine has two cores. (Vitest 4 runs the files of a project with
        // fileParallelism: false one by one, after the other projects' files.)
        resolve: { conditions: ['source'] },
        ssr: { resolve: { conditions: ['source'] } },
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
