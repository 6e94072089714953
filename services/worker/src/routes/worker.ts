import type { FastifyInstance } from 'fastify';
import type { JobPoller } from '../poller';

/** `GET /worker`: what this worker is doing, including the last job failure and its reason. */
export function workerRoutes(app: FastifyInstance, { poller }: { poller: JobPoller }): void {
  app.get('/worker', async () => poller.status());
}
