import rateLimit from '@fastify/rate-limit';
import { createApp, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { createAuthenticator } from './authenticate';
import type { GatewayConfig } from './config';
import { authRoutes } from './routes/auth';
import { formRoutes } from './routes/forms';
import { healthRoutes } from './routes/health';
import { createUpstreams } from './upstreams';

export interface BuildAppOptions {
  config: GatewayConfig;
  logger: Logger;
  /** The resolved HS256 secret: JWT_SECRET, or the shared development secret (see index.ts). */
  jwtSecret: string;
}

/** api-gateway: the frontend's one entry, `/api/*` forwarded to the services. Never listens. */
export async function buildApp({ config, logger, jwtSecret }: BuildAppOptions): Promise<FastifyInstance> {
  const upstreams = createUpstreams(config);
  const app = createApp({
    service: 'api-gateway',
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    readiness: [upstreams.auth, upstreams.form].map((client) => ({
      name: client.name,
      check: () => client.get('/health', { timeoutMs: config.HEALTH_PROBE_TIMEOUT_MS }),
    })),
  });
  // Only routes that ask for it (login) are limited; registered before the routes so it sees them.
  await app.register(rateLimit, { global: false });

  const authenticate = createAuthenticator(jwtSecret);
  authRoutes(app, { upstreams, authenticate, loginRateLimit: config.LOGIN_RATE_LIMIT });
  formRoutes(app, { upstreams, authenticate });
  healthRoutes(app, { services: upstreams.all, probeTimeoutMs: config.HEALTH_PROBE_TIMEOUT_MS });
  return app;
}
