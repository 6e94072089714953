import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Component tests: React in jsdom. The browser tests in e2e/ have their own config (vitest.e2e.config.ts).
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['source'] },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    // Typing with user-event is slow on a loaded two-core machine; a bound, not a timing assertion.
    testTimeout: 60_000,
  },
});
