import { baseConfigSchema, z } from '@repo/service-kit';

const milliseconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** worker-service configuration; every variable is listed with its default in .env.example. */
export const configSchema = baseConfigSchema(3005).extend({
  DATA_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3004'),
  EMAIL_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3002'),
  /** Bound on each data-service call (claim, ack, fail, lookups). */
  UPSTREAM_TIMEOUT_MS: milliseconds(100, 60_000, 5000),
  /** Bound on each email-service /send call; SMTP can be slower than the other calls. */
  EMAIL_TIMEOUT_MS: milliseconds(100, 120_000, 15_000),
  /** Pause between claims while the queue is empty (or data-service is down). */
  WORKER_POLL_INTERVAL_MS: milliseconds(10, 60_000, 500),
  /** Jobs claimed at once; they run concurrently. */
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  /** How long a claimed job stays ours; past it data-service hands it to another claim. */
  WORKER_LEASE_MS: milliseconds(1000, 600_000, 30_000),
  /** The name the claims carry (shown in data-service's jobs); default <hostname>:<pid>. */
  WORKER_NAME: z.string().min(1).max(100).optional(),
});

export type WorkerConfig = z.output<typeof configSchema>;
