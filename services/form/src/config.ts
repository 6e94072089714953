import { baseConfigSchema, z } from '@repo/service-kit';

/** form-service configuration; every variable is listed with its default in .env.example. */
export const configSchema = baseConfigSchema(3001).extend({
  DATA_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3004'),
  /** Bound on each call to data-service, so a hung upstream becomes a 504 instead of a hung request. */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
});

export type FormConfig = z.output<typeof configSchema>;
