import { HttpError } from '@repo/service-kit';

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface QueryResult<R extends object = Row> {
  rows: R[];
  /** Rows returned, or rows changed by a statement that returns none. */
  rowCount: number;
}

/** Something SQL can run on: the database itself, or an open transaction. */
export interface Queryable {
  /** SQL with `?` placeholders, written once for both adapters. */
  query<R extends object = Row>(sql: string, params?: readonly SqlValue[]): Promise<QueryResult<R>>;
}

export type DatabaseKind = 'sqlite' | 'postgres';

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /** Where the data lives, for messages and `/health`: the file, or host:port/database (never credentials). */
  readonly location: string;
  /** PostgreSQL: the schema its tables live in when not `public` (each checkout's stack has its own). */
  readonly schema?: string | undefined;
  /**
   * Appended to a `SELECT ... LIMIT n` that picks rows to update, so that concurrent claimers skip
   * each other's rows instead of waiting (PostgreSQL). Empty for SQLite, whose writes are serial.
   */
  readonly skipLockedClause: string;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Inside,
   * use only `tx`: calling the database itself would wait for the transaction (SQLite: deadlock).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers; throws an error that names the database when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A unique constraint refused a row (email taken, idempotency key used). */
export class UniqueViolationError extends Error {
  override name = 'UniqueViolationError';
}

/**
 * The database cannot be reached or used at all (server down, file unwritable). Answered as 503 with
 * a message that names the database, e.g. `PostgreSQL unreachable at 127.0.0.1:5432 (ECONNREFUSED)`.
 */
export class DatabaseUnavailableError extends HttpError {
  override name = 'DatabaseUnavailableError';
  /** Where the data lives when the data itself is at fault (a file that is not a database): logged, never answered. */
  readonly dataLocation?: string;
  /** What to do about the data, one sentence, when no code change fixes it (logged for devctl diagnose). */
  readonly remedy?: string;
  constructor(
    message: string,
    readonly kind: DatabaseKind,
    readonly code: string,
    options?: { cause?: unknown; dataLocation?: string; remedy?: string },
  ) {
    super(503, message, { database: kind, code });
    if (options?.cause !== undefined) this.cause = options.cause;
    if (options?.dataLocation !== undefined) this.dataLocation = options.dataLocation;
    if (options?.remedy !== undefined) this.remedy = options.remedy;
  }
}

/**
 * The schema of the database does not fit this code: a migration failed on it, or it is newer than
 * the migrations this build knows. Its log line names the database (`dataLocation`), the migration
 * and what to do (`remedy`), so a person or devctl diagnose sees that the data, not a source line,
 * holds the fix.
 */
export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    message: string,
    readonly dataLocation: string,
    readonly remedy: string,
    readonly migration?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
