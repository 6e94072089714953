import rateLimit from '@fastify/rate-limit';
import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { createAuthenticator } from './authenticate';
import type { GatewayConfig } from './config';
import { authRoutes } from './routes/auth';
import { formRoutes } from './routes/forms';
import { type ForwardedRoute, forwardRoutes } from './routes/forward';
import { healthRoutes } from './routes/health';
import { createUpstreams } from './upstreams';

export interface BuildAppOptions {
  config: GatewayConfig;
  logger: Logger;
  /** The resolved HS256 secret: JWT_SECRET, or the shared development secret (see index.ts). */
  jwtSecret: string;
  /** The routes of routes/generated.ts with their URLs (index.ts resolves them); none by default. */
  forwardedRoutes?: readonly ForwardedRoute[];
}

/** api-gateway: the frontend's one entry, `/api/*` forwarded to the services. Never listens. */
export async function buildApp({
  config,
  logger,
  jwtSecret,
  forwardedRoutes = [],
}: BuildAppOptions): Promise<FastifyInstance> {
  const upstreams = createUpstreams(config);
  const app = createApp({
    service: 'api-gateway',
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // The stack's edge: a client's x-routine-request header must not keep its requests out of the logs.
    honourRoutineHeader: false,
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
  forwardRoutes(app, { routes: forwardedRoutes, authenticate, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
  const forwardedServices = forwardedRoutes.map((route) =>
    createServiceClient({
      name: route.service,
      baseUrl: route.baseUrl,
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    }),
  );
  healthRoutes(app, {
    services: [...upstreams.all, ...forwardedServices],
    probeTimeoutMs: config.HEALTH_PROBE_TIMEOUT_MS,
  });
  return app;
}
