import { defineConfig } from 'vitest/config';

// Pure functions and one real ecosystem file in a temporary folder: milliseconds, no processes.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'] },
});
