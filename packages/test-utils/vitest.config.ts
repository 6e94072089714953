import { packageConfig } from './vitest.shared.js';

// A PM2 daemon's first start can take tens of seconds on a loaded 2-core machine (a bound).
export default packageConfig({ testTimeout: 90_000, hookTimeout: 90_000 });
