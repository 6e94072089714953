import { baseConfigSchema, z } from '@repo/service-kit';

const POSTGRES_URL_HINT =
  'must be a postgres:// or postgresql:// URL, e.g. postgres://user:password@127.0.0.1:5432/devstack';

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.pathname.length > 1;
  } catch {
    return false;
  }
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = baseConfigSchema(3004).extend({
  /** PostgreSQL when set; the embedded SQLite file otherwise. */
  DATABASE_URL: z.string().refine(isPostgresUrl, POSTGRES_URL_HINT).optional(),
  /**
   * The PostgreSQL schema that holds the tables (created on first start). Unset: `public` for the
   * first checkout; another checkout's stack gets one named after its PM2 namespace (the kit's
   * stack default), so two stacks on one DATABASE_URL never see each other's rows. Set it to the
   * same value in two checkouts to share data on purpose (docs/side-by-side.md).
   */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name: letters, digits, _ (at most 63)')
    .optional(),
  /** The SQLite file, relative to services/data (or absolute, or `:memory:`). */
  DATABASE_FILE: z.string().min(1).default('data/app.db'),
  DATABASE_POOL_MAX: int(1, 100).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3000),
  DATABASE_BUSY_TIMEOUT_MS: int(0, 60_000).default(5000),
  /**
   * SQLite: FULL syncs the WAL to disk at every commit (survives power loss); NORMAL syncs only at
   * checkpoints (survives a crash of the process, not of the machine) and writes ~20x faster.
   */
  DATABASE_SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  /** Attempts before a job goes to `dead`, unless the job sets its own maxAttempts. */
  JOB_MAX_ATTEMPTS: int(1, 100).default(5),
  /** How long a claimed job stays leased when the worker asks for no leaseMs. */
  JOB_LEASE_MS: int(1000, 3_600_000).default(30_000),
  /** Retry delay after a failed attempt: base x 2^(attempts-1), at most max. */
  JOB_BACKOFF_BASE_MS: int(1, 3_600_000).default(1000),
  JOB_BACKOFF_MAX_MS: int(1, 86_400_000).default(300_000),
});

export type DataConfig = z.output<typeof configSchema>;
