import { packageConfig } from '../test-utils/vitest.shared.js';

// Pure functions and one real ecosystem file in a temporary folder: milliseconds, no processes.
export default packageConfig({ include: ['test/**/*.test.ts'] });
