import type { FastifyInstance } from 'fastify';
import type { Scheduler } from '../scheduler';

/** `GET /schedules` lists the schedules and their last outcome; `POST /schedules/:name/run` runs one now. */
export function scheduleRoutes(app: FastifyInstance, { scheduler }: { scheduler: Scheduler }): void {
  app.get('/schedules', async () => ({ schedules: scheduler.list() }));

  app.post<{ Params: { name: string } }>('/schedules/:name/run', async (req) => {
    const result = await scheduler.runNow(req.params.name);
    return { name: req.params.name, result };
  });
}
