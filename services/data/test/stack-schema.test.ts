// Two stacks (two checkouts) on one DATABASE_URL: each data-service works in its own schema
// (DATABASE_SCHEMA, which the kit defaults to the stack's namespace for every checkout but the
// first), created on first start, so neither sees the other's rows; the same schema shares them.
import { startPostgres, type TestPostgres } from '@repo/test-utils/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrate } from '../src/db';
import { openPostgres } from '../src/db/postgres';
import { createStore } from '../src/store';
import { queueDefaults, testClock } from './helpers';

describe('a schema per stack on one PostgreSQL database', () => {
  let server: TestPostgres;
  const opened: Database[] = [];
  const open = async (schema: string | undefined) => {
    const db = openPostgres({ url: server.url, schema, poolMax: 2, connectTimeoutMs: 5000 });
    opened.push(db);
    await migrate(db);
    return createStore(db, { clock: testClock(), ...queueDefaults });
  };

  beforeAll(async () => {
    // Named as a project made by `devctl init my-app` names its database: a hyphen, quoted.
    server = await startPostgres({ database: 'my-app' });
  }, 120_000);

  afterAll(async () => {
    for (const db of opened) await db.close();
    await server?.stop();
  }, 60_000);

  it("keeps each stack's rows in its own schema, created on first start; the same schema shares them", async () => {
    const first = await open(undefined);
    const second = await open('devstack_wt_a_1f2e');
    await first.users.create({ email: 'first@example.com', passwordHash: 'x' });
    await second.users.create({ email: 'second@example.com', passwordHash: 'x' });
    expect(await first.users.findByEmail('second@example.com')).toBeUndefined();
    expect(await second.users.findByEmail('first@example.com')).toBeUndefined();
    expect((await second.users.findByEmail('second@example.com'))?.email).toBe('second@example.com');
    // A third checkout told to use the second's schema on purpose sees its rows.
    const shared = await open('devstack_wt_a_1f2e');
    expect((await shared.users.findByEmail('second@example.com'))?.email).toBe('second@example.com');
    // The tables live where they should.
    const { rows } = await (opened[0] as Database).query<{ table_schema: string }>(
      "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'users' ORDER BY table_schema",
    );
    expect(rows.map((r) => r.table_schema)).toEqual(['devstack_wt_a_1f2e', 'public']);
  });
});
