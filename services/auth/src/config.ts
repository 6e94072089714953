import { baseConfigSchema, mustMatch, z } from '@repo/service-kit';
import { PRODUCTION_SCRYPT_N } from './password';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90s`, `15m`, `1h`, `7d` -> seconds. */
const duration = z
  .string()
  .regex(/^[1-9]\d*[smhd]$/, 'expected a duration like 15m, 1h or 7d')
  .transform(
    (value) => Number(value.slice(0, -1)) * UNIT_SECONDS[value.slice(-1) as keyof typeof UNIT_SECONDS],
  );

export const configSchema = baseConfigSchema(3003)
  .extend({
    // An enum rather than any string: a typo such as `prod` must not silently fall back to a dev secret.
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    DATA_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3004'),
    /** HS256 key shared with api-gateway. Unset outside production: a generated one in <root>/.secrets/. */
    // mustMatch: devctl diagnose reports (by hash) when the two services hold different keys.
    JWT_SECRET: mustMatch(
      'jwt-signing-key',
      z.string().min(32, 'must be at least 32 characters').optional(),
      {
        devSecret: 'jwt-secret',
      },
    ),
    JWT_TTL: duration.default(3600),
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    /**
     * scrypt's cost N for new password hashes (each hash stores its own, so older ones still verify).
     * Lower only where hashing speed matters more than strength (tests); refused below the default
     * in production.
     */
    SCRYPT_COST: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two, e.g. 16384')
      .default(PRODUCTION_SCRYPT_N),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && config.JWT_SECRET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    if (config.NODE_ENV === 'production' && config.SCRYPT_COST < PRODUCTION_SCRYPT_N) {
      ctx.addIssue({
        code: 'custom',
        path: ['SCRYPT_COST'],
        message: `must be at least ${PRODUCTION_SCRYPT_N} (OWASP's minimum) when NODE_ENV=production`,
      });
    }
  });

export type AuthConfig = z.output<typeof configSchema>;
