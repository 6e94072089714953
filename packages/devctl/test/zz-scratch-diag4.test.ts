import { it } from 'vitest';
import { startHealthyStack } from './fixtures/harness';
it('five apps', async () => {
  const s = await startHealthyStack([{ name: 'catalog', folder: 'catalog' },{ name: 'c2', folder: 'catalog' },{ name: 'c3', folder: 'catalog' },{ name: 'o1', folder: 'orders' },{ name: 'o2', folder: 'orders' }]);
  for (let i = 0; i < 5; i++) await s.pm2('jlist');
  await s.cleanup();
}, 120_000);
