import { type Database, SchemaError } from './types';

export interface Migration {
  /** Applied in increasing order, each once, recorded in `schema_migrations`. Never renumber or edit one. */
  version: number;
  name: string;
  /** Statements valid in both SQLite and PostgreSQL. Times are epoch milliseconds (BIGINT). */
  statements: string[];
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'users, forms, submissions, jobs, sent_emails',
    statements: [
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      // Emails are unique whatever their case; the address is stored as given.
      'CREATE UNIQUE INDEX users_email_lower ON users (lower(email))',
      `CREATE TABLE forms (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users (id),
        title TEXT NOT NULL,
        fields TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX forms_owner ON forms (owner_id, created_at)',
      `CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        form_id TEXT NOT NULL REFERENCES forms (id),
        answers TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX submissions_form ON submissions (form_id, created_at)',
      'CREATE INDEX submissions_created ON submissions (created_at)',
      `CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
        run_at BIGINT NOT NULL,
        lease_token TEXT,
        leased_by TEXT,
        lease_until BIGINT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      'CREATE INDEX jobs_due ON jobs (status, run_at)',
      'CREATE INDEX jobs_lease ON jobs (status, lease_until)',
      `CREATE TABLE sent_emails (
        idempotency_key TEXT PRIMARY KEY,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        transport TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'schedule_ticks, email_reservations: what several replicas share',
    statements: [
      // One row per schedule tick that some scheduler replica claimed: the primary key is the lease,
      // so each tick runs once across replicas instead of once per replica.
      `CREATE TABLE schedule_ticks (
        schedule TEXT NOT NULL,
        tick BIGINT NOT NULL,
        holder TEXT NOT NULL,
        claimed_at BIGINT NOT NULL,
        PRIMARY KEY (schedule, tick)
      )`,
      // An email being sent: reserved by one email-service replica until reserved_until, so two
      // replicas never both hand one key to the transport.
      `CREATE TABLE email_reservations (
        idempotency_key TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        reserved_until BIGINT NOT NULL
      )`,
    ],
  },
];

/** Any constant: the PostgreSQL advisory lock that keeps two starting instances from migrating at once. */
const MIGRATION_LOCK = 3_004_001;

/**
 * Brings the schema up to date in one transaction (DDL is transactional in both databases), so a
 * failed migration leaves nothing half done. Returns the versions it applied.
 */
export async function migrate(db: Database, list: Migration[] = migrations): Promise<number[]> {
  const latest = Math.max(0, ...list.map((m) => m.version));
  return db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    // This stack's own schema, created on its first start (a plain SQL name: checked by config.ts).
    if (db.schema) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...applied);
    if (newest > latest) {
      throw new SchemaError(
        `the ${db.kind} database at ${db.location} has schema version ${newest}, newer than this data-service knows (${latest}); ` +
          'run the newer data-service, or point DATABASE_URL / DATABASE_FILE at another database',
        db.location,
        `run the data-service that wrote schema version ${newest}, or point DATABASE_URL / DATABASE_FILE at another database`,
      );
    }
    const done: number[] = [];
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      try {
        for (const statement of migration.statements) await tx.query(statement);
      } catch (error) {
        // The statement is fine on an empty database: what it met is data this migration did not expect.
        const label = `migration ${migration.version} (${migration.name})`;
        throw new SchemaError(
          `${label} failed on the ${db.kind} database at ${db.location}: ${(error as Error).message}`,
          db.location,
          `the database at ${db.location} already holds what ${label} creates, or was changed by hand: inspect it, or point DATABASE_URL / DATABASE_FILE at a new database`,
          label,
          { cause: error },
        );
      }
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      done.push(migration.version);
    }
    return done;
  });
}
