import { packageConfig } from '../test-utils/vitest.shared.js';

export default packageConfig();
