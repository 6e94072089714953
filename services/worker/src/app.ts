import { hostname } from 'node:os';
import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { WorkerConfig } from './config';
import { jobHandlers } from './jobs';
import { JobPoller } from './poller';
import { workerRoutes } from './routes/worker';

export interface BuildAppOptions {
  config: WorkerConfig;
  logger: Logger;
}

interface QueueStats {
  pending: number;
  running: number;
  done: number;
  dead: number;
  oldestPendingAgeMs: number | null;
}

/**
 * The worker-service application. Polling starts when the server listens (so route tests that only
 * `inject` never claim jobs) and stops in `onClose`, after the jobs in flight have finished.
 */
export function buildApp({ config, logger }: BuildAppOptions): FastifyInstance & { poller: JobPoller } {
  const data = createServiceClient({
    name: 'data-service',
    baseUrl: config.DATA_SERVICE_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const email = createServiceClient({
    name: 'email-service',
    baseUrl: config.EMAIL_SERVICE_URL,
    timeoutMs: config.EMAIL_TIMEOUT_MS,
  });
  const poller = new JobPoller({
    data,
    context: { data, email, emailTimeoutMs: config.EMAIL_TIMEOUT_MS },
    handlers: jobHandlers,
    logger,
    workerName: config.WORKER_NAME ?? `${hostname()}:${process.pid}`,
    pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
    batchSize: config.WORKER_BATCH_SIZE,
    leaseMs: config.WORKER_LEASE_MS,
  });

  const app = createApp({
    service: 'worker-service',
    logger,
    readiness: [
      { name: 'data-service', check: () => data.get('/health') },
      { name: 'email-service', check: () => email.get('/health') },
    ],
    health: async () => {
      const { processed, failed, worker, polling, inFlight } = poller.status();
      try {
        // Short bound: /health must answer even when data-service hangs.
        const stats = await data.get<QueueStats>('/jobs/stats', { timeoutMs: 1000 });
        return {
          worker: { name: worker, polling, inFlight },
          queue: { pending: stats.pending, running: stats.running, dead: stats.dead, processed, failed },
        };
      } catch (error) {
        return {
          worker: { name: worker, polling, inFlight },
          queue: {
            pending: null,
            running: null,
            dead: null,
            processed,
            failed,
            error: error instanceof Error ? error.message : String(error),
          },
        };
      }
    },
  });

  app.addHook('onListen', async () => poller.start());
  app.addHook('onClose', async () => poller.stop());
  workerRoutes(app, { poller });
  return Object.assign(app, { poller });
}
