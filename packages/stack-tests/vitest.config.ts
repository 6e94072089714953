import { packageConfig } from '../test-utils/vitest.shared.js';

// The seven services started for real: a roomier bound than a package's own tests.
export default packageConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
