// A statement that fails must name the function that asked for it. SQLite queries run in a serial
// queue, whose async hop drops the caller from the error's stack: without the call site, the log
// and devctl diagnose could only point at the wrapper every query goes through (sqlite.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db';
import { openTestSqlite, tempDir } from './helpers';

const dir = tempDir();
const db = openTestSqlite(dir.file('stack.db'));
afterAll(async () => {
  await db.close();
  dir.remove();
});

async function findUserWithTypo(email: string) {
  return db.query('SELECT id, email, pasword_hash FROM users WHERE lower(email) = lower(?)', [email]);
}

describe('a failing statement', () => {
  it('keeps the frame of the store function whose statement failed', async () => {
    await migrate(db);
    const error = await findUserWithTypo('a@example.org').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/no such column: pasword_hash/);
    expect(error?.stack).toMatch(/at (async )?findUserWithTypo \(.*sql-error-stack\.test\.ts:\d+:\d+\)/);
  });
});
