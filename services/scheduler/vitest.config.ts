import { defineConfig } from 'vitest/config';

// 'source' resolves workspace packages to their TypeScript, so tests never run stale dist/ output.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  // Bounds, not timing assertions: `pnpm test` runs the packages side by side on a 2-core machine,
  // where a service started from its TypeScript can take well over 10 s to answer.
  test: { include: ['test/**/*.test.ts', 'src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
