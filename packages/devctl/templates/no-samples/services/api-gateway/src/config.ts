import { baseConfigSchema, z } from '@repo/service-kit';
import { generatedRouteConfig } from './routes/forward';
import { generatedRoutes } from './routes/generated';

export const configSchema = baseConfigSchema(3000)
  .extend({
    // An enum rather than any string: a typo such as `prod` must not silently fall back to a dev secret.
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /** HS256 key of the tokens `bearer` routes accept. Unset outside production: the generated one in <root>/.secrets/. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Bound on every forwarded call; past it the client gets 504 naming the upstream. */
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    /** Bound on each probe of GET /api/health, so one hung service cannot stall the answer. */
    HEALTH_PROBE_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(1000),
    /** Largest request body accepted, in bytes. */
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
