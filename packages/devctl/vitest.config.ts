import { defineConfig } from 'vitest/config';

// 'source' resolves workspace packages to their TypeScript, so tests never run stale dist/ output.
// The global setup builds dist/ once: end-to-end tests run the real bin.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/fixtures/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
