// Hostile and malformed requests to every write route of data-service: each gets a 4xx whose
// message says what is wrong, nothing reaches the database, and the service keeps answering.
// Over a real SQLite file; the row counts are read from that database itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteApp, tempDir } from './helpers';

const dir = tempDir('data-bad-input-');
let app: Awaited<ReturnType<typeof sqliteApp>>['app'];
let db: Awaited<ReturnType<typeof sqliteApp>>['db'];
let ownerId = '';
let formId = '';

const TABLES = ['users', 'forms', 'submissions', 'jobs', 'sent_emails'] as const;

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const { rows } = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`);
    counts[table] = Number(rows[0]?.n);
  }
  return counts;
}

async function send(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: string | object,
  contentType = 'application/json',
) {
  const res = await app.inject({
    method,
    url,
    ...(payload === undefined
      ? {}
      : {
          payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
          headers: { 'content-type': contentType },
        }),
  });
  let body: { message?: string; fields?: Record<string, string> } = {};
  try {
    body = res.json();
  } catch {
    // asserted below: every answer must be JSON
  }
  return {
    status: res.statusCode,
    body,
    raw: res.body,
    describe: `${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
  };
}

/** A 4xx with a JSON `{message}` that is not empty. */
function expectClearRefusal(res: Awaited<ReturnType<typeof send>>, status?: number) {
  if (status !== undefined) expect(res.status, res.describe).toBe(status);
  expect(res.status, res.describe).toBeGreaterThanOrEqual(400);
  expect(res.status, res.describe).toBeLessThan(500);
  expect(typeof res.body.message, res.describe).toBe('string');
  expect(res.body.message?.length, res.describe).toBeGreaterThan(5);
}

const WRITE_ROUTES = [
  '/users',
  '/forms',
  '/forms/{form}/submissions',
  '/jobs',
  '/jobs/claim',
  '/emails',
] as const;
const route = (path: string) => path.replace('{form}', formId);

const SQL_INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; DELETE FROM jobs',
  '" OR ""="',
  "admin'--",
];
const PATH_TRAVERSALS = [
  '../../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..\\..\\windows\\win.ini',
];

beforeAll(async () => {
  ({ app, db } = await sqliteApp(dir.file('bad-input.db')));
  const user = await app.inject({
    method: 'POST',
    url: '/users',
    payload: { email: 'owner@example.com', passwordHash: 'scrypt$x' },
  });
  ownerId = user.json().id;
  const form = await app.inject({
    method: 'POST',
    url: '/forms',
    payload: {
      ownerId,
      title: 'Contact',
      fields: [{ name: 'name', label: 'Name', type: 'text', required: true }],
    },
  });
  formId = form.json().id;
  expect(await rowCounts()).toEqual({ users: 1, forms: 1, submissions: 0, jobs: 0, sent_emails: 0 });
});

afterAll(async () => {
  await app?.close();
  dir.remove();
});

describe('data-service refuses bad input with a 4xx that says why, and stores nothing', () => {
  it('malformed JSON on every write route: 400 naming JSON', async () => {
    for (const path of WRITE_ROUTES) {
      for (const body of ['{"email":', '{email: 1}', '{"a":1}}', '\u0000', 'nul']) {
        const res = await send('POST', route(path), body);
        expectClearRefusal(res, 400);
        expect(res.body.message, res.describe).toMatch(/JSON/i);
      }
    }
  });

  it('a body that is not a JSON object (null, array, string, number): 400', async () => {
    for (const path of WRITE_ROUTES) {
      for (const body of ['null', '[]', '"text"', '42', 'true'])
        expectClearRefusal(await send('POST', route(path), body), 400);
    }
  });

  it('a body that is not JSON (text/plain: 400, the body is no object; form-urlencoded: 415)', async () => {
    for (const path of WRITE_ROUTES) {
      expectClearRefusal(await send('POST', route(path), 'email=a@b.c', 'text/plain'), 400);
      expectClearRefusal(
        await send('POST', route(path), 'email=a@b.c', 'application/x-www-form-urlencoded'),
        415,
      );
    }
  });

  it('wrong types: 400 naming each field', async () => {
    const cases: [string, object, string[]][] = [
      ['/users', { email: 42, passwordHash: ['x'] }, ['email', 'passwordHash']],
      ['/forms', { ownerId: 7, title: {}, fields: 'name' }, ['ownerId', 'title', 'fields']],
      ['/forms/{form}/submissions', { answers: [1, 2] }, ['answers']],
      [
        '/jobs',
        { type: 1, idempotencyKey: true, maxAttempts: '3' },
        ['type', 'idempotencyKey', 'maxAttempts'],
      ],
      ['/jobs/claim', { worker: 'w', limit: 'ten' }, ['limit']],
      [
        '/emails',
        { idempotencyKey: 'k', to: 1, subject: null, transport: 'outbox', messageId: 'm' },
        ['to', 'subject'],
      ],
    ];
    for (const [path, body, fields] of cases) {
      const res = await send('POST', route(path), body);
      expectClearRefusal(res, 400);
      expect(Object.keys(res.body.fields ?? {}).sort(), res.describe).toEqual([...fields].sort());
    }
  });

  it('unknown fields: 400 naming them as unknown', async () => {
    const cases: [string, object, string][] = [
      ['/users', { email: 'x@example.com', passwordHash: 'h', isAdmin: true }, 'isAdmin'],
      ['/forms', { ownerId, title: 'T', fields: [], public: true }, 'public'],
      ['/forms/{form}/submissions', { answers: {}, spam: 1 }, 'spam'],
      ['/jobs', { type: 't', idempotencyKey: 'k', priority: 9 }, 'priority'],
      [
        '/emails',
        { idempotencyKey: 'k', to: 'a@b.c', subject: 's', transport: 'outbox', messageId: 'm', bcc: 'x' },
        'bcc',
      ],
    ];
    for (const [path, body, field] of cases) {
      const res = await send('POST', route(path), body);
      expectClearRefusal(res, 400);
      expect(res.body.fields?.[field], res.describe).toBe('unknown field');
    }
  });

  it('__proto__ and constructor keys are refused, never merged into objects', async () => {
    const res = await send(
      'POST',
      '/users',
      '{"email":"p@example.com","passwordHash":"h","__proto__":{"isAdmin":true}}',
    );
    expectClearRefusal(res, 400);
    const ctor = await send(
      'POST',
      '/users',
      '{"email":"p@example.com","passwordHash":"h","constructor":{"prototype":{"x":1}}}',
    );
    expectClearRefusal(ctor, 400);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('an oversized body (over the 256 KiB limit): 413', async () => {
    const huge = JSON.stringify({ email: 'big@example.com', passwordHash: 'x'.repeat(300 * 1024) });
    expectClearRefusal(await send('POST', '/users', huge), 413);
    const hugeAnswers = JSON.stringify({ answers: { name: 'y'.repeat(300 * 1024) } });
    expectClearRefusal(await send('POST', route('/forms/{form}/submissions'), hugeAnswers), 413);
  });

  it('very long strings inside the limit: 400 naming the field', async () => {
    const long = 'a'.repeat(100_000);
    const cases: [string, object, string][] = [
      ['/users', { email: `${long}@example.com`, passwordHash: 'h' }, 'email'],
      ['/users', { email: 'long@example.com', passwordHash: long }, 'passwordHash'],
      ['/forms', { ownerId, title: long, fields: [] }, 'title'],
      ['/jobs', { type: long, idempotencyKey: 'k' }, 'type'],
      ['/jobs', { type: 't', idempotencyKey: long }, 'idempotencyKey'],
      ['/jobs/claim', { worker: long }, 'worker'],
    ];
    for (const [path, body, field] of cases) {
      const res = await send('POST', route(path), body);
      expectClearRefusal(res, 400);
      expect(res.body.fields?.[field], res.describe).toEqual(expect.any(String));
    }
  });

  it('bad query strings: 400 naming the parameter', async () => {
    for (const url of [
      '/jobs?limit=abc',
      '/jobs?limit=-1',
      '/jobs?status=exploded',
      '/jobs?evil=1',
      '/forms?owner=x',
      '/stats/digest?since=yesterday',
      '/stats/digest',
      '/jobs/dead?olderThan=1%27%20OR%201=1',
    ]) {
      const method = url.startsWith('/jobs/dead') ? 'DELETE' : 'GET';
      expectClearRefusal(await send(method, url), 400);
    }
  });

  it('SQL injection in path and query parameters finds nothing and changes nothing', async () => {
    for (const injection of SQL_INJECTIONS) {
      const encoded = encodeURIComponent(injection);
      for (const url of [
        `/users/${encoded}`,
        `/users/by-email/${encoded}`,
        `/forms/${encoded}`,
        `/jobs/${encoded}`,
        `/emails/${encoded}`,
        `/forms/${encoded}/submissions`,
      ]) {
        const res = await send('GET', url);
        expectClearRefusal(res, 404);
      }
      const listed = await send('GET', `/forms?ownerId=${encoded}`);
      expect(listed.status, listed.describe).toBe(200);
      expect((listed.body as { forms?: unknown[] }).forms, listed.describe).toEqual([]);
      const jobs = await send('GET', `/jobs?type=${encoded}`);
      expect((jobs.body as { jobs?: unknown[] }).jobs, jobs.describe).toEqual([]);
      expectClearRefusal(await send('POST', `/jobs/${encoded}/ack`, { leaseToken: injection }), 404);
    }
  });

  it('SQL injection inside valid values is stored verbatim, as data, and every table survives', async () => {
    const title = "Robert'); DROP TABLE forms; --";
    const created = await send('POST', '/forms', { ownerId, title, fields: [] });
    expect(created.status, created.describe).toBe(201);
    const id = (created.body as { id: string }).id;
    const read = await send('GET', `/forms/${id}`);
    expect((read.body as { title?: string }).title).toBe(title);
    const counts = await rowCounts();
    expect(counts.forms).toBe(2);
    await db.query('DELETE FROM forms WHERE id = ?', [id]);
  });

  it('path traversal in path parameters: 404, never a file', async () => {
    for (const traversal of PATH_TRAVERSALS) {
      for (const prefix of ['/users/', '/users/by-email/', '/forms/', '/jobs/', '/emails/']) {
        const res = await send('GET', `${prefix}${traversal}`);
        expectClearRefusal(res);
        expect(res.raw, res.describe).not.toMatch(/root:|\[fonts\]/);
      }
    }
  });

  it('a submission to a form that does not exist: 404, and no job is queued', async () => {
    const res = await send('POST', '/forms/00000000-0000-7000-8000-000000000000/submissions', {
      answers: { name: 'x' },
      job: { type: 'send-confirmation-email', idempotencyKey: 'submission:ghost' },
    });
    expectClearRefusal(res, 404);
  });

  it('after all of it nothing was stored and the service still answers', async () => {
    expect(await rowCounts()).toEqual({ users: 1, forms: 1, submissions: 0, jobs: 0, sent_emails: 0 });
    const health = await send('GET', '/health');
    expect(health.status, health.describe).toBe(200);
    const ready = await send('GET', '/ready');
    expect(ready.status, ready.describe).toBe(200);
  });
});
