import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { AuthConfig } from './config';
import { loginRoute } from './routes/login';
import { meRoute } from './routes/me';
import { signupRoute } from './routes/signup';
import { verifyRoute } from './routes/verify';
import { createTokenIssuer } from './tokens';
import { createUserStore, type UserStore } from './users';

export interface BuildAppOptions {
  config: AuthConfig;
  logger: Logger;
  /** The resolved HS256 secret: JWT_SECRET, or the shared development secret (see index.ts). */
  jwtSecret: string;
  /**
   * The users, by default data-service's through the kit's client. Tests give one whose answers
   * drift, to check that the routes' response schemas catch it.
   */
  users?: UserStore;
}

/** auth-service: sign-up, login and token checks; users live in data-service. Never listens. */
export function buildApp({ config, logger, jwtSecret, users: given }: BuildAppOptions): FastifyInstance {
  const data = createServiceClient({
    name: 'data-service',
    baseUrl: config.DATA_SERVICE_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const app = createApp({
    service: 'auth-service',
    logger,
    bodyLimit: 16 * 1024,
    readiness: [{ name: 'data-service', check: () => data.get('/health') }],
  });
  const users = given ?? createUserStore(data);
  const tokens = createTokenIssuer(jwtSecret, config.JWT_TTL);

  const scryptN = config.SCRYPT_COST;
  app.register(signupRoute, { users, tokens, scryptN });
  app.register(loginRoute, { users, tokens, scryptN });
  app.register(meRoute, { users, tokens });
  app.register(verifyRoute, { tokens });
  return app;
}
