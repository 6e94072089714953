// Every route of data-service through app.inject, over a temporary SQLite file per test.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteApp, type TestClock, tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.remove());

let app: Awaited<ReturnType<typeof sqliteApp>>['app'];
let clock: TestClock;
let counter = 0;

beforeEach(async () => {
  ({ app, clock } = await sqliteApp(dir.file(`routes-${++counter}.db`)));
});
afterEach(async () => {
  await app.close();
});

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
  const res = await app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  // biome-ignore lint/suspicious/noExplicitAny: assertions read the JSON answers field by field
  return { status: res.statusCode, body: res.json() as Record<string, any> };
}

async function createUser(email = 'ada@example.com') {
  const res = await call('POST', '/users', { email, passwordHash: 'scrypt$hash' });
  expect(res.status).toBe(201);
  return res.body as { id: string; email: string; createdAt: string };
}

const contactFields = [
  { name: 'name', label: 'Your name', type: 'text', required: true },
  { name: 'topic', label: 'Topic', type: 'choice', required: false, options: ['a', 'b'] },
];

async function createForm(ownerId: string, title = 'Contact') {
  const res = await call('POST', '/forms', { ownerId, title, fields: contactFields });
  expect(res.status).toBe(201);
  return res.body as { id: string; ownerId: string; title: string };
}

describe('health and readiness', () => {
  it('answers /health with the kind of database', async () => {
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', service: 'data-service', database: { kind: 'sqlite' } });
  });

  it('answers /ready when the database answers', async () => {
    const res = await call('GET', '/ready');
    expect(res.status).toBe(200);
    expect(res.body.checks.database.ok).toBe(true);
  });
});

describe('users', () => {
  it('creates a user without echoing the password hash', async () => {
    const user = await createUser('Ada@Example.com');
    expect(user).toEqual({ id: expect.any(String), email: 'Ada@Example.com', createdAt: expect.any(String) });
  });

  it('answers 409 for an email that exists in another case', async () => {
    await createUser('ada@example.com');
    const res = await call('POST', '/users', { email: 'ADA@example.com', passwordHash: 'x' });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/already exists/);
  });

  it('answers 400 naming each bad or unknown field', async () => {
    const res = await call('POST', '/users', { email: 'not-an-email', role: 'admin' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields).sort()).toEqual(['email', 'passwordHash', 'role']);
    expect(res.body.fields.role).toBe('unknown field');
  });

  it('finds a user by email in any case, with the hash, and by id, without it', async () => {
    const user = await createUser('ada@example.com');
    const byEmail = await call('GET', '/users/by-email/ADA%40EXAMPLE.COM');
    expect(byEmail).toEqual({ status: 200, body: { ...user, passwordHash: 'scrypt$hash' } });
    expect(await call('GET', `/users/${user.id}`)).toEqual({ status: 200, body: user });
  });

  it('answers 404 for unknown users', async () => {
    expect((await call('GET', '/users/by-email/nobody%40example.com')).status).toBe(404);
    expect((await call('GET', '/users/00000000-0000-7000-8000-000000000000')).status).toBe(404);
  });
});

describe('forms', () => {
  it('creates a form and reads it back', async () => {
    const owner = await createUser();
    const form = await createForm(owner.id);
    expect(form).toMatchObject({ ownerId: owner.id, title: 'Contact', fields: contactFields });
    expect(await call('GET', `/forms/${form.id}`)).toEqual({ status: 200, body: form });
  });

  it('answers 400 naming the field of a bad form', async () => {
    const owner = await createUser();
    const res = await call('POST', '/forms', {
      ownerId: owner.id,
      title: '',
      fields: [{ name: 'x', label: 'X', type: 'date', required: true }],
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields).sort()).toEqual(['fields.0.type', 'title']);
  });

  it('answers 400 naming ownerId when the owner does not exist', async () => {
    const res = await call('POST', '/forms', { ownerId: 'nobody', title: 'T', fields: [] });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual({ ownerId: 'no user with this id' });
  });

  it("lists an owner's forms newest first, and only theirs", async () => {
    const ada = await createUser('ada@example.com');
    const bob = await createUser('bob@example.com');
    const first = await createForm(ada.id, 'first');
    clock.advance(1000);
    const second = await createForm(ada.id, 'second');
    await createForm(bob.id, 'bob');
    const res = await call('GET', `/forms?ownerId=${ada.id}`);
    expect(res.status).toBe(200);
    expect(res.body.forms.map((f: { id: string }) => f.id)).toEqual([second.id, first.id]);
    expect((await call('GET', '/forms')).body.forms).toHaveLength(3);
    expect((await call('GET', '/forms?owner=x')).body.fields).toEqual({ owner: 'unknown field' });
  });

  it('answers 404 for an unknown form', async () => {
    expect((await call('GET', '/forms/missing')).status).toBe(404);
    expect((await call('GET', '/forms/missing/submissions')).status).toBe(404);
    expect((await call('POST', '/forms/missing/submissions', { answers: {} })).status).toBe(404);
  });
});

describe('submissions', () => {
  it('stores a submission with its job, committed together, and lists submissions oldest first', async () => {
    const owner = await createUser();
    const form = await createForm(owner.id);
    const res = await call('POST', `/forms/${form.id}/submissions`, {
      answers: { name: 'Bob' },
      job: { type: 'send-confirmation-email', payload: { to: 'owner' } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), formId: form.id, answers: { name: 'Bob' } });
    const job = await call('GET', `/jobs/${res.body.jobId}`);
    expect(job.body).toMatchObject({
      type: 'send-confirmation-email',
      idempotencyKey: `submission:${res.body.id}`,
      payload: { to: 'owner', submissionId: res.body.id, formId: form.id },
      status: 'pending',
    });
    const second = await call('POST', `/forms/${form.id}/submissions`, { answers: { name: 'Cy' } });
    const list = await call('GET', `/forms/${form.id}/submissions`);
    expect(list.body.submissions.map((s: { id: string }) => s.id)).toEqual([res.body.id, second.body.id]);
  });

  it('answers 500 and stores no submission when its job cannot be stored', async () => {
    const owner = await createUser();
    const form = await createForm(owner.id);
    const { db } = await reopen();
    await db.query('ALTER TABLE jobs RENAME TO jobs_elsewhere');
    const res = await call('POST', `/forms/${form.id}/submissions`, {
      answers: { a: 1 },
      job: { type: 't' },
    });
    expect(res.status).toBe(500);
    expect(res.body.message).toBe('internal server error');
    await db.query('ALTER TABLE jobs_elsewhere RENAME TO jobs');
    expect((await call('GET', `/forms/${form.id}/submissions`)).body.submissions).toEqual([]);
    expect((await call('GET', '/jobs')).body.jobs).toEqual([]);
  });

  it('answers 400 naming the fields of a bad submission', async () => {
    const owner = await createUser();
    const form = await createForm(owner.id);
    const res = await call('POST', `/forms/${form.id}/submissions`, {
      answers: 'nope',
      job: { type: '', maxAttempts: 0, extra: 1 },
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields).sort()).toEqual([
      'answers',
      'job.extra',
      'job.maxAttempts',
      'job.type',
    ]);
  });
});

/** The app's own database handle, to break it on purpose (the app is rebuilt on the same file). */
async function reopen() {
  await app.close();
  const built = await sqliteApp(dir.file(`routes-${counter}.db`));
  app = built.app;
  clock = built.clock;
  return built;
}

describe('owners and digest', () => {
  it('lists owners with their form count and counts new submissions per form since a time', async () => {
    const ada = await createUser('ada@example.com');
    await createUser('idle@example.com');
    const form = await createForm(ada.id, 'Contact');
    await call('POST', `/forms/${form.id}/submissions`, { answers: {} });
    clock.advance(60_000);
    const since = new Date(clock.now()).toISOString();
    await call('POST', `/forms/${form.id}/submissions`, { answers: {} });
    expect((await call('GET', '/owners')).body).toEqual({
      owners: [{ id: ada.id, email: 'ada@example.com', formCount: 1 }],
    });
    expect((await call('GET', `/stats/digest?since=${encodeURIComponent(since)}`)).body).toEqual({
      owners: [
        {
          ownerId: ada.id,
          email: 'ada@example.com',
          forms: [{ id: form.id, title: 'Contact', submissions: 1 }],
        },
      ],
    });
  });

  it('answers 400 naming since when it is missing or not a time', async () => {
    for (const url of ['/stats/digest', '/stats/digest?since=yesterday']) {
      const res = await call('GET', url);
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.fields)).toEqual(['since']);
    }
  });
});

describe('jobs', () => {
  const job = { type: 'send-confirmation-email', payload: { n: 1 }, idempotencyKey: 'submission:1' };

  it('enqueues with 201, and answers 200 with the existing job for the same key', async () => {
    const first = await call('POST', '/jobs', job);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ ...job, status: 'pending', attempts: 0, maxAttempts: 5 });
    const again = await call('POST', '/jobs', { ...job, payload: { n: 2 } });
    expect(again).toEqual({ status: 200, body: first.body });
  });

  it('claims with a lease, re-claims after it expires, and answers 409 to the lost lease', async () => {
    const { body: created } = await call('POST', '/jobs', job);
    const first = await call('POST', '/jobs/claim', { worker: 'w1', leaseMs: 1000 });
    expect(first.body.jobs).toHaveLength(1);
    expect(first.body.jobs[0]).toMatchObject({
      id: created.id,
      status: 'running',
      attempts: 1,
      leasedBy: 'w1',
    });
    expect((await call('POST', '/jobs/claim', { worker: 'w2' })).body.jobs).toEqual([]);

    clock.advance(1000);
    const second = await call('POST', '/jobs/claim', { worker: 'w2', leaseMs: 1000 });
    expect(second.body.jobs[0]).toMatchObject({ id: created.id, attempts: 2, leasedBy: 'w2' });

    const lost = await call('POST', `/jobs/${created.id}/ack`, { leaseToken: first.body.jobs[0].leaseToken });
    expect(lost.status).toBe(409);
    expect(lost.body.message).toMatch(/lease lost/);
    const ack = await call('POST', `/jobs/${created.id}/ack`, { leaseToken: second.body.jobs[0].leaseToken });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('done');
  });

  it('fails with backoff, then dead after maxAttempts, and purges dead jobs', async () => {
    const { body: created } = await call('POST', '/jobs', { ...job, maxAttempts: 2 });
    const claim1 = await call('POST', '/jobs/claim', { worker: 'w' });
    const fail1 = await call('POST', `/jobs/${created.id}/fail`, {
      leaseToken: claim1.body.jobs[0].leaseToken,
      error: 'SMTP 421',
    });
    expect(fail1.status).toBe(200);
    expect(fail1.body).toMatchObject({ status: 'pending', lastError: 'SMTP 421' });
    expect(Date.parse(fail1.body.runAt) - clock.now()).toBe(1000);
    clock.advance(1000);
    const claim2 = await call('POST', '/jobs/claim', { worker: 'w' });
    const fail2 = await call('POST', `/jobs/${created.id}/fail`, {
      leaseToken: claim2.body.jobs[0].leaseToken,
      error: 'SMTP 421 again',
    });
    expect(fail2.body).toMatchObject({ status: 'dead', attempts: 2 });
    expect((await call('GET', '/jobs?status=dead')).body.jobs.map((j: { id: string }) => j.id)).toEqual([
      created.id,
    ]);
    expect((await call('GET', '/jobs/stats')).body).toEqual({
      pending: 0,
      running: 0,
      done: 0,
      dead: 1,
      oldestPendingAgeMs: null,
    });
    const past = new Date(clock.now() - 1).toISOString();
    expect((await call('DELETE', `/jobs/dead?olderThan=${encodeURIComponent(past)}`)).body).toEqual({
      purged: 0,
    });
    expect((await call('DELETE', '/jobs/dead')).body).toEqual({ purged: 1 });
  });

  it('reports the age of the oldest due pending job', async () => {
    await call('POST', '/jobs', job);
    clock.advance(4000);
    expect((await call('GET', '/jobs/stats')).body).toEqual({
      pending: 1,
      running: 0,
      done: 0,
      dead: 0,
      oldestPendingAgeMs: 4000,
    });
  });

  it('answers 404 for an unknown job and 409 for a wrong lease token', async () => {
    expect((await call('POST', '/jobs/missing/ack', { leaseToken: 't' })).status).toBe(404);
    expect((await call('POST', '/jobs/missing/fail', { leaseToken: 't', error: 'e' })).status).toBe(404);
    expect((await call('GET', '/jobs/missing')).status).toBe(404);
    const { body: created } = await call('POST', '/jobs', job);
    await call('POST', '/jobs/claim', { worker: 'w' });
    expect((await call('POST', `/jobs/${created.id}/fail`, { leaseToken: 'wrong', error: 'e' })).status).toBe(
      409,
    );
  });

  it('answers 400 naming each bad field of job requests', async () => {
    const cases: [string, string, unknown, string[]][] = [
      ['POST', '/jobs', { type: 't' }, ['idempotencyKey']],
      ['POST', '/jobs', { ...job, runAt: 'soon', priority: 1 }, ['priority', 'runAt']],
      ['POST', '/jobs/claim', { limit: 0, leaseMs: 5 }, ['leaseMs', 'limit', 'worker']],
      ['POST', '/jobs/claim', { worker: 'w', types: [] }, ['types']],
      ['POST', '/jobs/x/ack', {}, ['leaseToken']],
      ['POST', '/jobs/x/fail', { leaseToken: 't' }, ['error']],
      ['GET', '/jobs?status=stuck&limit=0', undefined, ['limit', 'status']],
      ['DELETE', '/jobs/dead?olderThan=last-week', undefined, ['olderThan']],
    ];
    for (const [method, url, body, fields] of cases) {
      const res = await call(method as 'GET', url, body);
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(Object.keys(res.body.fields).sort()).toEqual(fields);
    }
  });

  it('lists jobs newest first up to the limit, filtered by status', async () => {
    const a = await call('POST', '/jobs', { ...job, idempotencyKey: 'a' });
    const b = await call('POST', '/jobs', { ...job, idempotencyKey: 'b' });
    expect((await call('GET', '/jobs?limit=1')).body.jobs.map((j: { id: string }) => j.id)).toEqual([
      b.body.id,
    ]);
    await call('POST', '/jobs/claim', { worker: 'w' });
    expect((await call('GET', '/jobs?status=running')).body.jobs.map((j: { id: string }) => j.id)).toEqual([
      a.body.id,
    ]);
  });

  it('delays a job until its runAt', async () => {
    const runAt = new Date(clock.now() + 60_000).toISOString();
    await call('POST', '/jobs', { ...job, runAt });
    expect((await call('POST', '/jobs/claim', { worker: 'w' })).body.jobs).toEqual([]);
    clock.advance(60_000);
    expect((await call('POST', '/jobs/claim', { worker: 'w' })).body.jobs).toHaveLength(1);
  });
});

describe('sent emails', () => {
  const email = {
    idempotencyKey: 'submission:1',
    to: 'owner@example.com',
    subject: 'New submission to Contact',
    transport: 'outbox',
    messageId: '<1@devstack>',
  };

  it('records an email with 201, answers 200 with the first record after, and finds it by key', async () => {
    const first = await call('POST', '/emails', email);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ ...email, sentAt: expect.any(String) });
    expect(await call('POST', '/emails', { ...email, messageId: '<2@devstack>' })).toEqual({
      status: 200,
      body: first.body,
    });
    expect(await call('GET', '/emails/submission%3A1')).toEqual({ status: 200, body: first.body });
  });

  it('answers 404 for an unknown key and 400 naming missing fields', async () => {
    expect((await call('GET', '/emails/nothing')).status).toBe(404);
    const res = await call('POST', '/emails', { idempotencyKey: 'k' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields).sort()).toEqual(['messageId', 'subject', 'to', 'transport']);
  });
});
