import { packageConfig } from '../../packages/test-utils/vitest.shared.js';

export default packageConfig();
