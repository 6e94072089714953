import { hostname } from 'node:os';
import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { SchedulerConfig } from './config';
import { scheduleRoutes } from './routes/schedules';
import { Scheduler } from './scheduler';
import { dailyDigest, purgeDeadJobs } from './schedules';

export interface BuildAppOptions {
  config: SchedulerConfig;
  logger: Logger;
}

/**
 * The scheduler-service application. Cron jobs start when the server listens (route tests that
 * only `inject` never fire them) and stop in `onClose`, after any run in progress.
 */
export function buildApp({ config, logger }: BuildAppOptions): FastifyInstance & { scheduler: Scheduler } {
  const data = createServiceClient({
    name: 'data-service',
    baseUrl: config.DATA_SERVICE_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const holder = `${hostname()}:${process.pid}`;
  const scheduler = new Scheduler(
    [
      dailyDigest(data, config.DIGEST_CRON),
      purgeDeadJobs(data, config.PURGE_CRON, config.DEAD_JOB_RETENTION_DAYS),
    ],
    logger,
    // Several replicas run the same crons: data-service's unique (schedule, tick) row picks one.
    (schedule, tick) =>
      data.post<{ claimed: boolean; holder: string }>(`/schedules/${encodeURIComponent(schedule)}/ticks`, {
        tick: tick.toISOString(),
        holder,
      }),
  );
  const app = createApp({
    service: 'scheduler-service',
    logger,
    readiness: [{ name: 'data-service', check: () => data.get('/health') }],
    health: () => ({
      schedules: Object.fromEntries(
        scheduler.list().map((s) => [s.name, { nextRun: s.nextRun, lastOk: s.lastResult?.ok ?? null }]),
      ),
    }),
  });
  app.addHook('onListen', async () => scheduler.start());
  app.addHook('onClose', async () => scheduler.stop());
  scheduleRoutes(app, { scheduler });
  return Object.assign(app, { scheduler });
}
