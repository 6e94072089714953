import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { FormConfig } from './config';
import { formStore } from './data';
import { formRoutes } from './routes/forms';
import { submissionRoutes } from './routes/submissions';

export interface BuildAppOptions {
  config: Pick<FormConfig, 'DATA_SERVICE_URL' | 'UPSTREAM_TIMEOUT_MS'>;
  logger: Logger;
}

/** The form-service application: forms and their submissions, stored through data-service. Never listens. */
export function buildApp({ config, logger }: BuildAppOptions): FastifyInstance {
  const data = createServiceClient({
    name: 'data-service',
    baseUrl: config.DATA_SERVICE_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const app = createApp({
    service: 'form-service',
    logger,
    readiness: [{ name: 'data-service', check: () => data.get('/health') }],
  });
  const store = formStore(data);
  app.register(formRoutes, { store });
  app.register(submissionRoutes, { store });
  return app;
}
