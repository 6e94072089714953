import { parseInput, z } from '@repo/service-kit';
import type { RouteContext } from './context';

const digestQuery = z.strictObject({ since: z.iso.datetime({ offset: true }) });

export function statsRoutes({ app, store }: RouteContext): void {
  app.get('/stats/digest', async (req) => {
    const { since } = parseInput(digestQuery, req.query, 'query string');
    return { owners: await store.forms.digest(Date.parse(since)) };
  });
}
