import type { Logger } from '@repo/service-kit';
import pg from 'pg';
import { toPostgresPlaceholders } from './placeholders';
import {
  type Database,
  DatabaseUnavailableError,
  type Queryable,
  type QueryResult,
  type SqlValue,
  UniqueViolationError,
} from './types';

export interface PostgresOptions {
  url: string;
  /** The schema every connection uses (search_path), created when missing; `public` when unset. */
  schema?: string | undefined;
  poolMax: number;
  connectTimeoutMs: number;
  logger?: Logger;
}

const INT8_OID = 20;
// Times are epoch milliseconds in BIGINT columns, and COUNT(*) is BIGINT: read both as numbers, as
// SQLite does (exact up to 2^53, far beyond any time or count here).
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? Number
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** host:port/database of a postgres URL, without the credentials. */
export function describePostgresUrl(url: string): { hostPort: string; location: string } {
  const parsed = new URL(url);
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const hostPort = `${host}:${parsed.port || '5432'}`;
  return { hostPort, location: `${hostPort}${parsed.pathname}` };
}

/** The errno-like code of a connection failure (node errors, or an AggregateError of several). */
function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors))
    for (const inner of e.errors)
      if (typeof (inner as { code?: unknown })?.code === 'string') return (inner as { code: string }).code;
  return undefined;
}

/** SQLSTATE classes of a connection that was refused, lost, or cannot be used. */
const UNAVAILABLE_SQLSTATE = /^(08|28|3D|53|57P)/;

/** PostgreSQL through a `pg` pool. SQL is shared with SQLite; only placeholders are translated. */
export function openPostgres(options: PostgresOptions): Database {
  const { hostPort, location: database } = describePostgresUrl(options.url);
  const location = options.schema ? `${database} (schema ${options.schema})` : database;
  const pool = new pg.Pool({
    connectionString: options.url,
    // The schema is checked to be a plain SQL name (config.ts), so it needs no quoting here.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    types,
  });
  // An idle connection that breaks (server restarted) emits here; unhandled, it would crash the process.
  pool.on('error', (error) => {
    options.logger?.warn(
      { err: error },
      `PostgreSQL at ${hostPort}: idle connection lost (${errorCode(error) ?? error.message})`,
    );
  });

  const describeError = (error: unknown): unknown => {
    const code = errorCode(error);
    const message = (error as Error)?.message ?? String(error);
    if (code === '23505') return new UniqueViolationError(message, { cause: error });
    if (code && UNAVAILABLE_SQLSTATE.test(code) && /^[0-9A-Z]{5}$/.test(code)) {
      return new DatabaseUnavailableError(
        `PostgreSQL at ${hostPort} refused the connection (${code}: ${message})`,
        'postgres',
        code,
        { cause: error },
      );
    }
    if (code && /^E[A-Z]+$/.test(code)) {
      return new DatabaseUnavailableError(
        `PostgreSQL unreachable at ${hostPort} (${code})`,
        'postgres',
        code,
        {
          cause: error,
        },
      );
    }
    if (/timeout exceeded when trying to connect/i.test(message)) {
      return new DatabaseUnavailableError(
        `PostgreSQL unreachable at ${hostPort} (ETIMEDOUT: no connection within ${options.connectTimeoutMs} ms)`,
        'postgres',
        'ETIMEDOUT',
        { cause: error },
      );
    }
    if (/Connection terminated/i.test(message)) {
      return new DatabaseUnavailableError(
        `PostgreSQL at ${hostPort} closed the connection (${message})`,
        'postgres',
        'ECONNRESET',
        {
          cause: error,
        },
      );
    }
    return error;
  };

  const run = async <R extends object>(
    target: pg.Pool | pg.PoolClient,
    sql: string,
    params: readonly SqlValue[],
  ) => {
    try {
      const result = await target.query(toPostgresPlaceholders(sql), params as unknown[]);
      return {
        rows: result.rows as R[],
        rowCount: result.rowCount ?? result.rows.length,
      } satisfies QueryResult<R>;
    } catch (error) {
      throw describeError(error);
    }
  };

  let closed: Promise<void> | undefined;

  const db: Database = {
    kind: 'postgres',
    location,
    schema: options.schema,
    skipLockedClause: ' FOR UPDATE SKIP LOCKED',

    query: (sql, params = []) => run(pool, sql, params),

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw describeError(error);
      }
      let broken: Error | undefined;
      try {
        await run(client, 'BEGIN', []);
        const result = await fn({ query: (sql, params = []) => run(client, sql, params) });
        await run(client, 'COMMIT', []);
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError; // the connection is unusable: drop it from the pool
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },

    async ping() {
      await db.query('SELECT 1 AS ok');
    },

    close() {
      closed ??= pool.end();
      return closed;
    },
  };
  return db;
}
