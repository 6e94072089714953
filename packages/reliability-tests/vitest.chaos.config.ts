import { packageConfig } from '../test-utils/vitest.shared.js';

// `pnpm test:chaos`: the load-and-chaos test alone (about 3 minutes on 2 cores).
export default packageConfig({
  include: ['test/**/*.chaos.test.ts'],
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 180_000,
});
