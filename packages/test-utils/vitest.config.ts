import { defineConfig } from 'vitest/config';

// 'source' resolves workspace packages to their TypeScript, so tests never run stale dist/ output.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  // Bounds, not timing assertions: `pnpm test` runs the packages side by side on a 2-core machine,
  // where a PM2 daemon's first start can take tens of seconds.
  test: { include: ['test/**/*.test.ts'], testTimeout: 90_000, hookTimeout: 90_000 },
});
