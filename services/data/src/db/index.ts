import { isAbsolute, resolve } from 'node:path';
import type { Logger } from '@repo/service-kit';
import { openSqlite } from './sqlite';
import type { Database } from './types';

export { migrate, migrations } from './migrations';
export * from './types';

export interface DatabaseConfig {
  DATABASE_URL?: string | undefined;
  DATABASE_SCHEMA?: string | undefined;
  DATABASE_FILE: string;
  DATABASE_POOL_MAX: number;
  DATABASE_CONNECT_TIMEOUT_MS: number;
  DATABASE_BUSY_TIMEOUT_MS: number;
  DATABASE_SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL';
}

/** PostgreSQL when DATABASE_URL is set, else the embedded SQLite file (relative to the service folder). */
export async function openDatabase(
  config: DatabaseConfig,
  serviceDir: string,
  logger?: Logger,
): Promise<Database> {
  if (config.DATABASE_URL) {
    // Loaded only when used: evaluating pg takes ~20 ms of every start with the SQLite default,
    // and a restart after a crash waits for it (bench/startup.mjs).
    const { openPostgres } = await import('./postgres');
    return openPostgres({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      poolMax: config.DATABASE_POOL_MAX,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      logger,
    });
  }
  const file =
    config.DATABASE_FILE === ':memory:' || isAbsolute(config.DATABASE_FILE)
      ? config.DATABASE_FILE
      : resolve(serviceDir, config.DATABASE_FILE);
  return openSqlite({
    file,
    busyTimeoutMs: config.DATABASE_BUSY_TIMEOUT_MS,
    synchronous: config.DATABASE_SQLITE_SYNCHRONOUS,
  });
}
