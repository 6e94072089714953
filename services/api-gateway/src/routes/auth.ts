import { HttpError, parseInput } from '@repo/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticate } from '../authenticate';
import type { Upstreams } from '../upstreams';
import { credentialsBody } from './schemas';

export interface AuthRouteOptions {
  upstreams: Upstreams;
  authenticate: Authenticate;
  /** Login attempts per minute for one client address and one email. */
  loginRateLimit: number;
}

/** One client address trying one account: the key of the login rate limit. */
function loginAttemptKey(req: FastifyRequest): string {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return `${req.ip}|${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
}

/** /api/auth/*: forwarded to auth-service, which owns accounts and tokens. */
export function authRoutes(
  app: FastifyInstance,
  { upstreams, authenticate, loginRateLimit }: AuthRouteOptions,
): void {
  app.post('/api/auth/signup', async (req, reply) => {
    const body = parseInput(credentialsBody, req.body);
    const created = await upstreams.auth.post('/signup', body);
    reply.code(201);
    return created;
  });

  app.post(
    '/api/auth/login',
    {
      config: {
        rateLimit: {
          max: loginRateLimit,
          timeWindow: 60_000,
          // preHandler, not onRequest: the key needs the parsed body's email.
          hook: 'preHandler',
          keyGenerator: loginAttemptKey,
          errorResponseBuilder: (_req, context) =>
            new HttpError(429, `too many login attempts for this email; try again in ${context.after}`),
        },
      },
    },
    async (req) => {
      const body = parseInput(credentialsBody, req.body);
      return upstreams.auth.post('/login', body);
    },
  );

  app.get('/api/auth/me', async (req) => {
    await authenticate(req);
    // auth-service answers from the stored account, so a deleted account stops here too.
    return upstreams.auth.get('/me', { headers: { authorization: req.headers.authorization as string } });
  });
}
