import { defineConfig } from 'vitest/config';

// The fast checks (`pnpm test`): bad input against the real stack, security defaults, crash
// recovery under PM2, bounded logs. The long load-and-chaos test runs only with `pnpm test:chaos`.
// Files run one at a time: each starts its own stack, and a 2-core machine has no room for two.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.chaos.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
