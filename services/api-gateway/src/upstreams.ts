import { createServiceClient, type ServiceClient } from '@repo/service-kit';
import type { GatewayConfig } from './config';

export interface Upstreams {
  auth: ServiceClient;
  form: ServiceClient;
  /** Every backend, by PM2 name, for GET /api/health. */
  all: ServiceClient[];
}

export function createUpstreams(config: GatewayConfig): Upstreams {
  const client = (name: string, baseUrl: string) =>
    createServiceClient({ name, baseUrl, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
  const auth = client('auth-service', config.AUTH_SERVICE_URL);
  const form = client('form-service', config.FORM_SERVICE_URL);
  return {
    auth,
    form,
    all: [
      auth,
      form,
      client('email-service', config.EMAIL_SERVICE_URL),
      client('data-service', config.DATA_SERVICE_URL),
      client('worker-service', config.WORKER_SERVICE_URL),
      client('scheduler-service', config.SCHEDULER_SERVICE_URL),
    ],
  };
}
