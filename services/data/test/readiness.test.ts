// What data-service says when its database is unusable, and that it keeps data across restarts.
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { openDatabase } from '../src/db';
import { silentLogger, sqliteApp, tempDir, testConfig } from './helpers';

const dir = tempDir();
afterAll(() => dir.remove());

/** A port nothing listens on: asked from the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

describe('an unreachable PostgreSQL', () => {
  it('keeps the service up, answering /ready 503 and requests 503 with the host:port and the reason', async () => {
    const port = await closedPort();
    const config = testConfig({ DATABASE_URL: `postgres://app:secret@127.0.0.1:${port}/devstack` });
    const app = await buildApp({ config, logger: silentLogger, db: await openDatabase(config, dir.dir) });
    try {
      const expected = `PostgreSQL unreachable at 127.0.0.1:${port} (ECONNREFUSED)`;
      const health = await app.inject({ url: '/health' });
      expect(health.statusCode).toBe(200);
      expect(health.json().database).toEqual({ kind: 'postgres', location: `127.0.0.1:${port}/devstack` });

      const ready = await app.inject({ url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.database).toMatchObject({ ok: false, error: expected });

      const request = await app.inject({ url: '/jobs/stats' });
      expect(request.statusCode).toBe(503);
      expect(request.json()).toEqual({
        message: expected,
        database: 'postgres',
        code: 'ECONNREFUSED',
        requestId: request.headers['x-request-id'],
      });
      expect(JSON.stringify([health.json(), ready.json(), request.json()])).not.toContain('secret');
    } finally {
      await app.close();
    }
  });
});

describe('an unusable SQLite file', () => {
  it('answers 503 naming the file and the reason, and recovers without a restart once fixed', async () => {
    const blocker = dir.file('not-a-folder');
    writeFileSync(blocker, 'x');
    const { app } = await sqliteApp(`${blocker}/app.db`);
    try {
      const ready = await app.inject({ url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.database.error).toBe(
        `SQLite database ${blocker}/app.db cannot be created: its folder ${blocker} is not usable (EEXIST)`,
      );
      const refused = await app.inject({
        method: 'POST',
        url: '/users',
        payload: { email: 'a@b.co', passwordHash: 'h' },
      });
      expect(refused.statusCode).toBe(503);

      rmSync(blocker);
      expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
      const created = await app.inject({
        method: 'POST',
        url: '/users',
        payload: { email: 'a@b.co', passwordHash: 'h' },
      });
      expect(created.statusCode).toBe(201);
    } finally {
      await app.close();
    }
  });
});

describe('the embedded database', () => {
  it('keeps committed data across a restart, and migrates only once', async () => {
    const file = dir.file('restart.db');
    const first = await sqliteApp(file);
    const created = await first.app.inject({
      method: 'POST',
      url: '/users',
      payload: { email: 'kept@example.com', passwordHash: 'h' },
    });
    expect(created.statusCode).toBe(201);
    await first.app.close();

    const second = await sqliteApp(file);
    try {
      const found = await second.app.inject({ url: '/users/by-email/kept%40example.com' });
      expect(found.statusCode).toBe(200);
      const versions = await second.db.query<{ version: number }>('SELECT version FROM schema_migrations');
      expect(versions.rows.map((r) => Number(r.version)).sort()).toEqual([1, 2]);
    } finally {
      await second.app.close();
    }
  });

  it('syncs every commit by default, and only checkpoints with DATABASE_SQLITE_SYNCHRONOUS=NORMAL', async () => {
    for (const [setting, expected] of [
      [undefined, 2],
      ['NORMAL', 1],
    ] as const) {
      const config = testConfig({
        DATABASE_FILE: dir.file(`sync-${setting}.db`),
        ...(setting && { DATABASE_SQLITE_SYNCHRONOUS: setting }),
      });
      const db = await openDatabase(config, dir.dir);
      const { rows } = await db.query<{ synchronous: number }>('PRAGMA synchronous');
      const journal = await db.query<{ journal_mode: string }>('PRAGMA journal_mode');
      await db.close();
      expect({ synchronous: rows[0]?.synchronous, journal: journal.rows[0]?.journal_mode }).toEqual({
        synchronous: expected,
        journal: 'wal',
      });
    }
  });

  it('resolves a relative DATABASE_FILE against the service folder', async () => {
    const config = testConfig({ DATABASE_FILE: 'data/relative.db' });
    const db = await openDatabase(config, dir.dir);
    expect(db.location).toBe(dir.file('data/relative.db'));
    await db.close();
  });
});
