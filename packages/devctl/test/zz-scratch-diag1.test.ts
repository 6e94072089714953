import { it } from 'vitest';
import { startHealthyStack } from './fixtures/harness';
it('one app', async () => {
  const s = await startHealthyStack([{ name: 'catalog', folder: 'catalog' }]);
  await s.cleanup();
}, 120_000);
