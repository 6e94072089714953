import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { createAuthenticator } from './authenticate';
import type { GatewayConfig } from './config';
import { type ForwardedRoute, forwardRoutes } from './routes/forward';
import { healthRoutes } from './routes/health';

export interface BuildAppOptions {
  config: GatewayConfig;
  logger: Logger;
  /** The resolved HS256 secret: JWT_SECRET, or the shared development secret (see index.ts). */
  jwtSecret: string;
  /** The routes of routes/generated.ts with their URLs (index.ts resolves them); none by default. */
  forwardedRoutes?: readonly ForwardedRoute[];
}

/**
 * api-gateway: the frontend's one entry. `/api/<x>` routes forward to the services listed in
 * routes/generated.ts (`devctl new service <name> --route /api/<x>` adds them); `/api/health`
 * reports every one of them. Hand-written routes go in routes/ and are registered here. Never listens.
 */
export async function buildApp({
  config,
  logger,
  jwtSecret,
  forwardedRoutes = [],
}: BuildAppOptions): Promise<FastifyInstance> {
  const app = createApp({ service: 'api-gateway', logger, bodyLimit: config.BODY_LIMIT_BYTES });
  const authenticate = createAuthenticator(jwtSecret);
  forwardRoutes(app, { routes: forwardedRoutes, authenticate, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
  const forwardedServices = forwardedRoutes.map((route) =>
    createServiceClient({
      name: route.service,
      baseUrl: route.baseUrl,
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    }),
  );
  healthRoutes(app, { services: forwardedServices, probeTimeoutMs: config.HEALTH_PROBE_TIMEOUT_MS });
  return app;
}
