import { defineConfig } from 'vitest/config';

// `pnpm test:chaos`: the load-and-chaos test alone (about 3 minutes on 2 cores).
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.chaos.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
