import { baseConfigSchema, z } from '@repo/service-kit';
import { Cron } from 'croner';

/** A cron expression croner accepts (5 fields, or 6 with seconds); the error is croner's own. */
const cronExpression = (fallback: string) =>
  z
    .string()
    .trim()
    .superRefine((pattern, ctx) => {
      try {
        new Cron(pattern, { paused: true }).stop();
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      }
    })
    .default(fallback);

/** scheduler-service configuration; every variable is listed with its default in .env.example. */
export const configSchema = baseConfigSchema(3006).extend({
  DATA_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3004'),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** When `daily-digest` enqueues one digest email per owner with new submissions (server time). */
  DIGEST_CRON: cronExpression('0 8 * * *'),
  /** When `purge-dead-jobs` deletes dead jobs older than DEAD_JOB_RETENTION_DAYS. */
  PURGE_CRON: cronExpression('0 * * * *'),
  DEAD_JOB_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
});

export type SchedulerConfig = z.output<typeof configSchema>;
