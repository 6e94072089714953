import { z } from '@repo/service-kit';
import type { RoutePlugin } from './context';
import { digestOwnerSchema } from './schemas';

const digestQuery = z.strictObject({ since: z.iso.datetime({ offset: true }) });

export const statsRoutes: RoutePlugin = async (app, { store }) => {
  app.get(
    '/stats/digest',
    {
      schema: {
        querystring: digestQuery,
        response: { 200: z.strictObject({ owners: z.array(digestOwnerSchema) }) },
      },
    },
    async (req) => ({ owners: await store.forms.digest(Date.parse(req.query.since)) }),
  );
};
