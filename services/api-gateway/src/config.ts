import { baseConfigSchema, localServiceUrl, mustMatch, z } from '@repo/service-kit';
import { generatedRouteConfig } from './routes/forward';
import { generatedRoutes } from './routes/generated';

const serviceUrl = (port: number) => z.url({ protocol: /^https?$/ }).default(localServiceUrl(port));

export const configSchema = baseConfigSchema(3000)
  .extend({
    // An enum rather than any string: a typo such as `prod` must not silently fall back to a dev secret.
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /** HS256 key shared with auth-service. Unset outside production: the generated one in <root>/.secrets/. */
    // mustMatch: devctl diagnose reports (by hash) when the two services hold different keys.
    JWT_SECRET: mustMatch(
      'jwt-signing-key',
      z.string().min(32, 'must be at least 32 characters').optional(),
      {
        devSecret: 'jwt-secret',
      },
    ),

    AUTH_SERVICE_URL: serviceUrl(3003),
    FORM_SERVICE_URL: serviceUrl(3001),
    // Only probed by GET /api/health.
    EMAIL_SERVICE_URL: serviceUrl(3002),
    DATA_SERVICE_URL: serviceUrl(3004),
    WORKER_SERVICE_URL: serviceUrl(3005),
    SCHEDULER_SERVICE_URL: serviceUrl(3006),

    /** Bound on every forwarded call; past it the client gets 504 naming the upstream. */
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    /** Bound on each probe of GET /api/health, so one hung service cannot stall the answer. */
    HEALTH_PROBE_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(1000),
    /** Login attempts per minute for one client address and one email. */
    LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(10),
    /** Largest request body accepted, in bytes (forms and submissions are small JSON). */
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(100 * 1024),
  })
  // <SERVICE>_URL of each service that `devctl new service --route` added (routes/generated.ts).
  .extend(generatedRouteConfig(generatedRoutes))
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && config.JWT_SECRET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
  });

export type GatewayConfig = z.output<typeof configSchema>;
