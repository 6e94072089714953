// One suite for the repository and the job queue, run against both adapters: the embedded SQLite
// file and a real PostgreSQL server started for this file (see @repo/test-utils/postgres).
import { startPostgres } from '@repo/test-utils/postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, migrate } from '../src/db';
import { openPostgres } from '../src/db/postgres';
import { createStore, type Store } from '../src/store';
import { clearTables, openTestSqlite, queueDefaults, type TestClock, tempDir, testClock } from './helpers';

interface Backend {
  name: string;
  start(): Promise<{ db: Database; stop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    async start() {
      const dir = tempDir();
      const db = openTestSqlite(dir.file('suite.db'));
      return {
        db,
        async stop() {
          await db.close();
          dir.remove();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async start() {
      const server = await startPostgres();
      const db = openPostgres({ url: server.url, poolMax: 10, connectTimeoutMs: 5000 });
      return {
        db,
        async stop() {
          try {
            await db.close();
          } finally {
            await server.stop();
          }
        },
      };
    },
  },
];

/** Status code of the error a promise rejects with (HttpError from the store). */
async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { statusCode?: number }).statusCode;
  }
}

describe.each(backends)('store and job queue on $name', (backend) => {
  let db: Database;
  let stop: (() => Promise<void>) | undefined;
  let store: Store;
  let clock: TestClock;

  beforeAll(async () => {
    const started = await backend.start();
    db = started.db;
    stop = started.stop;
    await migrate(db);
  }, 120_000);

  afterAll(async () => {
    await stop?.();
  }, 60_000);

  beforeEach(async () => {
    await clearTables(db);
    clock = testClock();
    store = createStore(db, { clock, ...queueDefaults });
  });

  const enqueue = (key: string, extra: Partial<Parameters<Store['queue']['enqueue']>[0]> = {}) =>
    store.queue.enqueue({ type: 'test', payload: { key }, idempotencyKey: key, ...extra }).then((r) => r.job);

  describe('migrations', () => {
    it('are applied once and recorded by version', async () => {
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
      expect(rows.map((r) => Number(r.version)).sort()).toEqual([1, 2]);
    });

    it('refuse a database whose schema is newer than this service knows', async () => {
      await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        999,
        'future',
        0,
      ]);
      try {
        await expect(migrate(db)).rejects.toThrow(
          /schema version 999, newer than this data-service knows \(2\)/,
        );
      } finally {
        await db.query('DELETE FROM schema_migrations WHERE version = ?', [999]);
      }
    });
  });

  describe('transactions', () => {
    it('roll back every statement when the function throws', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)', [
            'u-rolled-back',
            'gone@example.com',
            'h',
            0,
          ]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await db.query('SELECT id FROM users')).rowCount).toBe(0);
    });
  });

  describe('users', () => {
    it('keeps emails unique whatever their case, and finds them whatever the case', async () => {
      const user = await store.users.create({ email: 'Ada@Example.com', passwordHash: 'hash' });
      expect(await statusOf(store.users.create({ email: 'ada@example.COM', passwordHash: 'x' }))).toBe(409);
      expect(await store.users.findByEmail('ADA@example.com')).toEqual({ ...user, passwordHash: 'hash' });
      expect(await store.users.findById(user.id)).toEqual(user);
      expect(await store.users.findById('missing')).toBeUndefined();
    });
  });

  describe('forms, submissions and the digest', () => {
    it('stores a submission and its job together, with the job keyed by the submission', async () => {
      const owner = await store.users.create({ email: 'o@example.com', passwordHash: 'h' });
      const form = await store.forms.create({ ownerId: owner.id, title: 'Contact', fields: [] });
      const { submission, job } = await store.forms.submit(form.id, {
        answers: { name: 'Bob' },
        job: { type: 'send-confirmation-email', payload: { extra: 1 } },
      });
      expect(job).toMatchObject({
        idempotencyKey: `submission:${submission.id}`,
        payload: { extra: 1, submissionId: submission.id, formId: form.id },
        status: 'pending',
      });
      expect(await store.forms.submissions(form.id)).toEqual([submission]);
    });

    it('stores neither the submission nor its job when the job cannot be stored', async () => {
      const owner = await store.users.create({ email: 'o@example.com', passwordHash: 'h' });
      const form = await store.forms.create({ ownerId: owner.id, title: 'Contact', fields: [] });
      await db.query('ALTER TABLE jobs RENAME TO jobs_elsewhere');
      try {
        await expect(
          store.forms.submit(form.id, { answers: { a: 1 }, job: { type: 'send-confirmation-email' } }),
        ).rejects.toThrow(/jobs/);
      } finally {
        await db.query('ALTER TABLE jobs_elsewhere RENAME TO jobs');
      }
      expect(await store.forms.submissions(form.id)).toEqual([]);
      expect(await store.queue.list({ limit: 10 })).toEqual([]);
    });

    it('refuses a submission to a missing form with 404, storing nothing', async () => {
      expect(await statusOf(store.forms.submit('missing', { answers: {}, job: { type: 't' } }))).toBe(404);
      expect(await store.queue.list({ limit: 10 })).toEqual([]);
    });

    it('refuses a form whose owner does not exist with 400', async () => {
      expect(await statusOf(store.forms.create({ ownerId: 'nobody', title: 't', fields: [] }))).toBe(400);
    });

    it('lists owners with their form count, and counts submissions since a time per form', async () => {
      const ada = await store.users.create({ email: 'ada@example.com', passwordHash: 'h' });
      const bob = await store.users.create({ email: 'bob@example.com', passwordHash: 'h' });
      await store.users.create({ email: 'no-forms@example.com', passwordHash: 'h' });
      const f1 = await store.forms.create({ ownerId: ada.id, title: 'A1', fields: [] });
      const f2 = await store.forms.create({ ownerId: ada.id, title: 'A2', fields: [] });
      const f3 = await store.forms.create({ ownerId: bob.id, title: 'B1', fields: [] });
      await store.forms.submit(f1.id, { answers: { old: true } });
      clock.advance(60_000);
      const since = clock.now();
      await store.forms.submit(f1.id, { answers: {} });
      await store.forms.submit(f1.id, { answers: {} });
      await store.forms.submit(f2.id, { answers: {} });
      expect(await store.users.listOwners()).toEqual([
        { id: ada.id, email: 'ada@example.com', formCount: 2 },
        { id: bob.id, email: 'bob@example.com', formCount: 1 },
      ]);
      expect(await store.forms.digest(since)).toEqual([
        {
          ownerId: ada.id,
          email: 'ada@example.com',
          forms: [
            { id: f1.id, title: 'A1', submissions: 2 },
            { id: f2.id, title: 'A2', submissions: 1 },
          ],
        },
      ]);
      expect(f3.ownerId).toBe(bob.id);
    });

    it('lists forms newest first, and submissions oldest first', async () => {
      const owner = await store.users.create({ email: 'o@example.com', passwordHash: 'h' });
      const first = await store.forms.create({ ownerId: owner.id, title: 'first', fields: [] });
      const second = await store.forms.create({ ownerId: owner.id, title: 'second', fields: [] });
      expect((await store.forms.list({ ownerId: owner.id })).map((f) => f.title)).toEqual([
        'second',
        'first',
      ]);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await store.forms.submit(second.id, { answers: { i } })).submission.id);
      expect((await store.forms.submissions(second.id)).map((s) => s.id)).toEqual(ids);
      expect(first.id).not.toBe(second.id);
    });
  });

  describe('sent emails', () => {
    it('records one email per idempotency key and returns the first record after', async () => {
      const input = {
        idempotencyKey: 'submission:1',
        to: 'a@example.com',
        subject: 'S',
        transport: 'outbox',
        messageId: 'm1',
      };
      const first = await store.emails.record(input);
      const again = await store.emails.record({ ...input, messageId: 'm2' });
      expect(first.created).toBe(true);
      expect(again).toEqual({ email: first.email, created: false });
      expect(await store.emails.find('submission:1')).toEqual(first.email);
      expect(await store.emails.find('other')).toBeUndefined();
    });
  });

  describe('email reservations (several email-service replicas)', () => {
    const email = {
      idempotencyKey: 'submission:r',
      to: 'a@example.com',
      subject: 'S',
      transport: 'outbox',
      messageId: 'm1',
    };
    const reserve = (holder: string, leaseMs = 10_000) =>
      store.emails.reserve({ idempotencyKey: email.idempotencyKey, holder, leaseMs });

    it('gives a key to exactly one of many replicas reserving it at once', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => reserve(`replica-${i}`)));
      const reserved = answers.filter((a) => a.state === 'reserved');
      expect(reserved).toHaveLength(1);
      const winner = (reserved[0] as { holder: string }).holder;
      for (const answer of answers.filter((a) => a.state !== 'reserved'))
        expect(answer).toMatchObject({ state: 'busy', holder: winner });
      expect(await reserve(winner)).toMatchObject({ state: 'reserved', holder: winner });
    });

    it('answers sent once recorded, frees a released key, and takes over an expired one', async () => {
      expect(await reserve('a')).toMatchObject({ state: 'reserved' });
      expect(await store.emails.release(email.idempotencyKey, 'b')).toBe(false);
      expect(await store.emails.release(email.idempotencyKey, 'a')).toBe(true);
      expect(await reserve('b', 1000)).toMatchObject({ state: 'reserved', holder: 'b' });
      expect(await reserve('c')).toMatchObject({ state: 'busy', holder: 'b' });
      clock.advance(1000);
      expect(await reserve('c')).toMatchObject({ state: 'reserved', holder: 'c' });
      await store.emails.record(email);
      expect(await reserve('d')).toMatchObject({ state: 'sent', email: { messageId: 'm1' } });
    });
  });

  describe('schedule ticks (several scheduler replicas)', () => {
    it('gives each tick to exactly one of many replicas claiming it at once, and again to it', async () => {
      const tick = Date.UTC(2026, 0, 1, 8);
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.ticks.claim({ schedule: 'daily-digest', tick, holder: `replica-${i}` }),
        ),
      );
      const winners = claims.filter((c) => c.claimed);
      expect(winners).toHaveLength(1);
      const holder = winners[0]?.holder ?? '';
      expect(new Set(claims.map((c) => c.holder))).toEqual(new Set([holder]));
      expect(await store.ticks.claim({ schedule: 'daily-digest', tick, holder })).toMatchObject({
        claimed: true,
      });
      // Another schedule, or the next tick, is claimed on its own.
      expect(await store.ticks.claim({ schedule: 'purge', tick, holder: 'x' })).toMatchObject({
        claimed: true,
      });
      expect(
        await store.ticks.claim({ schedule: 'daily-digest', tick: tick + 60_000, holder: 'x' }),
      ).toMatchObject({ claimed: true, tick: '2026-01-01T08:01:00.000Z' });
    });
  });

  describe('job queue', () => {
    it('enqueues once per idempotency key and returns the existing job after', async () => {
      const first = await store.queue.enqueue({ type: 'a', payload: { n: 1 }, idempotencyKey: 'k' });
      const second = await store.queue.enqueue({ type: 'b', payload: { n: 2 }, idempotencyKey: 'k' });
      expect(first.created).toBe(true);
      expect(second).toEqual({ job: first.job, created: false });
      expect(first.job).toMatchObject({ status: 'pending', attempts: 0, maxAttempts: 5, payload: { n: 1 } });
    });

    it('claims only due jobs, oldest runAt first, leasing each to the worker', async () => {
      const later = await enqueue('later', { runAt: clock.now() + 10_000 });
      clock.advance(1);
      const a = await enqueue('a');
      clock.advance(1);
      const b = await enqueue('b');
      const claimed = await store.queue.claim({ worker: 'w1', limit: 10, leaseMs: 60_000 });
      expect(claimed.map((j) => j.id)).toEqual([a.id, b.id]);
      for (const job of claimed) {
        expect(job).toMatchObject({ status: 'running', attempts: 1, leasedBy: 'w1' });
        expect(job.leaseToken).toEqual(expect.any(String));
        expect(Date.parse(job.leaseUntil ?? '')).toBe(clock.now() + 60_000);
      }
      expect(await store.queue.claim({ worker: 'w2', limit: 10 })).toEqual([]);
      clock.advance(10_000);
      expect(
        (await store.queue.claim({ worker: 'w2', limit: 10, leaseMs: 60_000 })).map((j) => j.id),
      ).toEqual([later.id]);
    });

    it('claims only the asked types', async () => {
      await enqueue('mail', { type: 'send-confirmation-email' });
      const digest = await enqueue('digest', { type: 'send-digest-email' });
      const claimed = await store.queue.claim({ worker: 'w', limit: 10, types: ['send-digest-email'] });
      expect(claimed.map((j) => j.id)).toEqual([digest.id]);
    });

    it('never gives the same job to two concurrent claims', async () => {
      // Warm the pool first, so the claims below run at the same time instead of one per new connection.
      await Promise.all(Array.from({ length: 8 }, () => db.ping()));
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 24; i++) await enqueue(`round-${round}-job-${i}`);
        const batches = await Promise.all(
          Array.from({ length: 8 }, (_, n) =>
            store.queue.claim({ worker: `w${n}`, limit: 3, leaseMs: 60_000 }),
          ),
        );
        const ids = batches.flat().map((j) => j.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(24);
      }
    });

    it('gives a job whose lease expired to the next claim, and refuses the old lease with 409', async () => {
      const job = await enqueue('j');
      const [first] = await store.queue.claim({ worker: 'w1', leaseMs: 1000 });
      clock.advance(1000);
      const [second] = await store.queue.claim({ worker: 'w2', leaseMs: 1000 });
      expect(second).toMatchObject({ id: job.id, attempts: 2, leasedBy: 'w2' });
      expect(second?.leaseToken).not.toBe(first?.leaseToken);
      expect(await statusOf(store.queue.ack(job.id, first?.leaseToken ?? ''))).toBe(409);
      expect(await statusOf(store.queue.fail(job.id, first?.leaseToken ?? '', 'late'))).toBe(409);
      const done = await store.queue.ack(job.id, second?.leaseToken ?? '');
      expect(done).toMatchObject({ status: 'done', leaseUntil: null });
      expect(await store.queue.ack(job.id, second?.leaseToken ?? '')).toEqual(done);
      expect(await store.queue.claim({ worker: 'w3' })).toEqual([]);
    });

    it('accepts the ack of an expired lease that nobody claimed again', async () => {
      const job = await enqueue('j');
      const [claimed] = await store.queue.claim({ worker: 'w1', leaseMs: 1000 });
      clock.advance(5000);
      expect(await store.queue.ack(job.id, claimed?.leaseToken ?? '')).toMatchObject({ status: 'done' });
    });

    it('answers 404 for an unknown job', async () => {
      expect(await statusOf(store.queue.ack('missing', 't'))).toBe(404);
      expect(await statusOf(store.queue.fail('missing', 't', 'e'))).toBe(404);
    });

    it('retries a failed job after 1 s x 2^(attempts-1), capped at 5 minutes', async () => {
      const job = await enqueue('j', { maxAttempts: 20 });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 10; attempt++) {
        const [claimed] = await store.queue.claim({ worker: 'w' });
        expect(claimed).toMatchObject({ id: job.id, attempts: attempt });
        const failed = await store.queue.fail(job.id, claimed?.leaseToken ?? '', `failure ${attempt}`);
        expect(failed).toMatchObject({
          status: 'pending',
          lastError: `failure ${attempt}`,
          leaseUntil: null,
        });
        const delay = Date.parse(failed.runAt) - clock.now();
        delays.push(delay);
        clock.advance(delay - 1);
        expect(await store.queue.claim({ worker: 'w' })).toEqual([]);
        clock.advance(1);
      }
      expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000]);
    });

    it('answers a repeated fail with the job as it is, without counting it twice', async () => {
      const job = await enqueue('j');
      const [claimed] = await store.queue.claim({ worker: 'w' });
      const failed = await store.queue.fail(job.id, claimed?.leaseToken ?? '', 'e');
      expect(await store.queue.fail(job.id, claimed?.leaseToken ?? '', 'e')).toEqual(failed);
    });

    it('moves a job to dead after maxAttempts failures, keeping the last error', async () => {
      const job = await enqueue('j', { maxAttempts: 3 });
      let last: Awaited<ReturnType<Store['queue']['fail']>> | undefined;
      for (let attempt = 1; attempt <= 3; attempt++) {
        clock.advance(3_600_000);
        const [claimed] = await store.queue.claim({ worker: 'w' });
        last = await store.queue.fail(job.id, claimed?.leaseToken ?? '', `failure ${attempt}`);
      }
      expect(last).toMatchObject({ status: 'dead', attempts: 3, lastError: 'failure 3' });
      clock.advance(3_600_000);
      expect(await store.queue.claim({ worker: 'w' })).toEqual([]);
    });

    it('moves a job to dead when its lease expires on the last attempt', async () => {
      const job = await enqueue('j', { maxAttempts: 1 });
      await store.queue.claim({ worker: 'w', leaseMs: 1000 });
      clock.advance(1000);
      expect(await store.queue.claim({ worker: 'w2' })).toEqual([]);
      expect(await store.queue.get(job.id)).toMatchObject({
        status: 'dead',
        lastError: expect.stringMatching(/lease expired/),
      });
    });

    it('counts jobs per status and the age of the oldest due pending job', async () => {
      expect(await store.queue.stats()).toEqual({
        pending: 0,
        running: 0,
        done: 0,
        dead: 0,
        oldestPendingAgeMs: null,
      });
      await enqueue('old');
      clock.advance(5000);
      await enqueue('new');
      await enqueue('future', { runAt: clock.now() + 60_000 });
      const running = await enqueue('running');
      await store.queue.claim({ worker: 'w' }); // takes 'old', the oldest due
      expect(running.status).toBe('pending');
      const stats = await store.queue.stats();
      expect(stats).toEqual({ pending: 3, running: 1, done: 0, dead: 0, oldestPendingAgeMs: 0 });
      clock.advance(2500);
      expect((await store.queue.stats()).oldestPendingAgeMs).toBe(2500);
    });

    it('lists jobs newest first, by status and type, up to the limit', async () => {
      const a = await enqueue('a');
      const b = await enqueue('b', { type: 'other' });
      const c = await enqueue('c');
      expect((await store.queue.list({ limit: 10 })).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.queue.list({ limit: 2 })).map((j) => j.id)).toEqual([c.id, b.id]);
      expect((await store.queue.list({ type: 'other', limit: 10 })).map((j) => j.id)).toEqual([b.id]);
      await store.queue.claim({ worker: 'w' });
      expect((await store.queue.list({ status: 'running', limit: 10 })).map((j) => j.id)).toEqual([a.id]);
    });

    it('purges dead jobs, all of them or those last changed before a time', async () => {
      const kill = async (key: string) => {
        const job = await enqueue(key, { maxAttempts: 1 });
        const [claimed] = await store.queue.claim({ worker: 'w' });
        await store.queue.fail(job.id, claimed?.leaseToken ?? '', 'x');
        return job;
      };
      await kill('old');
      clock.advance(10_000);
      const cutoff = clock.now();
      const recent = await kill('recent');
      const pending = await enqueue('pending');
      expect(await store.queue.purgeDead(cutoff)).toBe(1);
      expect((await store.queue.list({ limit: 10 })).map((j) => j.id)).toEqual([pending.id, recent.id]);
      expect(await store.queue.purgeDead()).toBe(1);
      expect((await store.queue.list({ limit: 10 })).map((j) => j.id)).toEqual([pending.id]);
    });
  });
});
