import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Client, createClient, type InValue, LibsqlError, type ResultSet } from '@libsql/client';
import { SerialQueue } from './serial';
import {
  type Database,
  DatabaseUnavailableError,
  type Queryable,
  type QueryResult,
  type Row,
  type SqlValue,
  UniqueViolationError,
} from './types';

export interface SqliteOptions {
  /** Absolute path of the database file, or `:memory:`. */
  file: string;
  busyTimeoutMs: number;
  /** FULL (default): every commit reaches the disk. NORMAL: only checkpoints do (WAL stays consistent). */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Error codes that mean the file itself is unusable, not that one statement is wrong. */
const UNAVAILABLE = new Set([
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_PERM',
]);

/**
 * What to do when the file itself is the problem (no code change fixes it). Logged with the error,
 * so diagnose names the file instead of this adapter's line.
 */
const REMEDY: Record<string, (file: string) => string> = {
  SQLITE_NOTADB: (file) =>
    `${file} is not a SQLite database: restore it from a backup, or move it away so data-service creates an empty one`,
  SQLITE_CORRUPT: (file) =>
    `${file} is corrupt: restore it from a backup, or move it away so data-service creates an empty one`,
  SQLITE_READONLY: (file) => `make ${file} and its folder writable by data-service`,
  SQLITE_PERM: (file) => `make ${file} and its folder writable by data-service`,
  SQLITE_CANTOPEN: (file) => `make ${file} openable: its folder must exist and be writable by data-service`,
  SQLITE_FULL: (file) => `free disk space where ${file} lives`,
  SQLITE_IOERR: (file) => `check the disk under ${file} (an I/O error, often a full or failing disk)`,
  SQLITE_BUSY: (file) =>
    `stop the other process that holds ${file} open for writing (a second data-service, a sqlite3 shell)`,
  SQLITE_LOCKED: (file) =>
    `stop the other process that holds ${file} open for writing (a second data-service, a sqlite3 shell)`,
};

function toRows(result: ResultSet): QueryResult {
  // libsql rows are array-like objects with a property per column; copy them into plain objects.
  const rows = result.rows.map((row) => {
    const plain: Row = {};
    for (const column of result.columns) plain[column] = row[column];
    return plain;
  });
  return { rows, rowCount: result.columns.length > 0 ? rows.length : result.rowsAffected };
}

/**
 * A statement that fails inside the serial queue has lost its caller: its stack ends in this file,
 * the wrapper every query goes through. The frames of the call site, captured when the query was
 * asked for (about a microsecond), are appended, so the log -- and devctl diagnose -- name the store
 * function whose statement failed.
 */
function withCallSite(error: unknown, callSite: Error): unknown {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return error;
  const frames = (callSite.stack ?? '').split('\n').slice(1).join('\n');
  if (frames) error.stack = `${error.stack}\n${frames}`;
  return error;
}

/**
 * The embedded database: one SQLite file through @libsql/client (a prebuilt binary, no native
 * build), WAL journal, one connection, and every operation serialized in this process.
 */
export function openSqlite(options: SqliteOptions): Database {
  const { file } = options;
  const queue = new SerialQueue();
  let client: Client | undefined;
  let closed = false;

  const describeError = (error: unknown): unknown => {
    if (!(error instanceof LibsqlError)) return error;
    if (
      error.extendedCode === 'SQLITE_CONSTRAINT_UNIQUE' ||
      error.extendedCode === 'SQLITE_CONSTRAINT_PRIMARYKEY'
    ) {
      return new UniqueViolationError(error.message, { cause: error });
    }
    if (UNAVAILABLE.has(error.code) || error.code === 'CLIENT_CLOSED') {
      const remedy = REMEDY[error.code];
      return new DatabaseUnavailableError(
        `SQLite database ${file} is unusable (${error.code}: ${error.message})`,
        'sqlite',
        error.code,
        { cause: error, ...(remedy ? { dataLocation: file, remedy: remedy(file) } : {}) },
      );
    }
    return error;
  };

  // Opened on first use, so a file that cannot be opened shows in /ready and in answers (503)
  // instead of stopping the service before it can say why.
  const connection = async (): Promise<Client> => {
    if (closed)
      throw new DatabaseUnavailableError(`SQLite database ${file} is closed`, 'sqlite', 'CLIENT_CLOSED');
    if (client) return client;
    if (file !== ':memory:') {
      try {
        mkdirSync(dirname(file), { recursive: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        throw new DatabaseUnavailableError(
          `SQLite database ${file} cannot be created: its folder ${dirname(file)} is not usable (${code})`,
          'sqlite',
          code,
          { cause: error },
        );
      }
    }
    const opened = createClient({
      url: file === ':memory:' ? ':memory:' : `file:${file}`,
      concurrency: 1,
      timeout: options.busyTimeoutMs,
      intMode: 'number',
    });
    try {
      if (file !== ':memory:') await opened.execute('PRAGMA journal_mode = WAL');
      await opened.execute(`PRAGMA synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      await opened.execute('PRAGMA foreign_keys = ON');
    } catch (error) {
      opened.close();
      throw error;
    }
    client = opened;
    return client;
  };

  const run = async (target: Pick<Client, 'execute'>, sql: string, params: readonly SqlValue[]) =>
    toRows(await target.execute({ sql, args: params as InValue[] }));

  const db: Database = {
    kind: 'sqlite',
    location: file,
    skipLockedClause: '',

    query<R extends object = Row>(sql: string, params: readonly SqlValue[] = []) {
      const callSite = new Error();
      return queue.run(async () => {
        try {
          return (await run(await connection(), sql, params)) as QueryResult<R>;
        } catch (error) {
          throw withCallSite(describeError(error), callSite);
        }
      });
    },

    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return queue.run(async () => {
        let tx: Awaited<ReturnType<Client['transaction']>>;
        try {
          tx = await (await connection()).transaction('write');
        } catch (error) {
          throw describeError(error);
        }
        const scoped: Queryable = {
          query: async <R extends object = Row>(sql: string, params: readonly SqlValue[] = []) => {
            // Awaited by the transaction's function itself: its stack keeps the caller.
            try {
              return (await run(tx, sql, params)) as QueryResult<R>;
            } catch (error) {
              throw describeError(error);
            }
          },
        };
        try {
          const result = await fn(scoped);
          await tx.commit();
          return result;
        } catch (error) {
          tx.close(); // rolls back what is still open
          throw describeError(error);
        }
      });
    },

    async ping() {
      await db.query('SELECT 1 AS ok');
    },

    close() {
      return queue.run(async () => {
        closed = true;
        // Fold the WAL back into the file, so app.db alone holds every committed write once stopped.
        await client?.execute('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
        client?.close();
        client = undefined;
      });
    },
  };
  return db;
}
