import { z } from '@repo/service-kit';
import type { RoutePlugin } from './context';

const nameParams = z.strictObject({ name: z.string().min(1).max(100) });
const claimBody = z.strictObject({
  tick: z.iso.datetime({ offset: true }),
  holder: z.string().min(1).max(200),
});
const claimAnswer = z.strictObject({
  schedule: z.string(),
  tick: z.string(),
  holder: z.string(),
  claimed: z.boolean(),
});

/**
 * `POST /schedules/:name/ticks`: a scheduler replica claims one tick (the time the cron fired for)
 * before running it; 201 `claimed: true` to the first, 200 `claimed: false` with the holder to the
 * others, so a tick runs once however many scheduler replicas there are.
 */
export const scheduleRoutes: RoutePlugin = async (app, { store }) => {
  app.post(
    '/schedules/:name/ticks',
    { schema: { params: nameParams, body: claimBody, response: { 200: claimAnswer, 201: claimAnswer } } },
    async (req, reply) => {
      const claim = await store.ticks.claim({
        schedule: req.params.name,
        tick: Date.parse(req.body.tick),
        holder: req.body.holder,
      });
      reply.code(claim.claimed ? 201 : 200);
      return claim;
    },
  );
};
