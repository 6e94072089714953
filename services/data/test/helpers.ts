import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@repo/service-kit';
import { buildApp } from '../src/app';
import { configSchema, type DataConfig } from '../src/config';
import { type Database, migrate, openDatabase } from '../src/db';
import { openSqlite } from '../src/db/sqlite';
import { createStore, type Store } from '../src/store';

export const silentLogger = createLogger({ service: 'data-service', level: 'silent' });

/** The validated config with its defaults, plus what a test sets. */
export function testConfig(env: Record<string, string> = {}): DataConfig {
  return configSchema.parse(env);
}

/** A clock the test moves by hand, so lease expiry and backoff need no waiting. */
export function testClock(start = Date.parse('2030-01-01T00:00:00.000Z')) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
export type TestClock = ReturnType<typeof testClock>;

/** A fresh folder for one test file's SQLite files; `remove` deletes it. */
export function tempDir(prefix = 'data-service-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name: string) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function openTestSqlite(file: string): Database {
  return openSqlite({ file, busyTimeoutMs: 5000 });
}

/** An app over its own new SQLite file, with a hand-moved clock. */
export async function sqliteApp(file: string, env: Record<string, string> = {}) {
  const config = testConfig({ DATABASE_FILE: file, ...env });
  const clock = testClock();
  const db = await openDatabase(config, '/nonexistent-service-dir');
  const app = await buildApp({ config, logger: silentLogger, db, clock });
  return { app, clock, db, config };
}

export const queueDefaults = {
  defaultMaxAttempts: 5,
  defaultLeaseMs: 30_000,
  backoffBaseMs: 1000,
  backoffMaxMs: 300_000,
};

export async function migratedStore(db: Database, clock: TestClock): Promise<Store> {
  await migrate(db);
  return createStore(db, { clock, ...queueDefaults });
}

/** Empties every table, children first. */
export async function clearTables(db: Database): Promise<void> {
  for (const table of [
    'schedule_ticks',
    'email_reservations',
    'sent_emails',
    'jobs',
    'submissions',
    'forms',
    'users',
  ])
    await db.query(`DELETE FROM ${table}`);
}
