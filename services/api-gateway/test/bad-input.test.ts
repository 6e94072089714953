// Hostile and malformed requests to every public route of the gateway: each gets a 4xx whose
// message says what is wrong, and none of them reaches a service behind it. auth-service and
// form-service are real HTTP servers that record every request they receive; the gateway is the
// real app. A refused request must leave their logs empty.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildGateway, type Stub, startStub, tokens } from './helpers';

interface Received {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: unknown;
}

let gateway: FastifyInstance;
let auth: Stub;
let form: Stub;
const received: Received[] = [];
const USER = '0190a3f4-0000-7000-8000-000000000001';
const FORM = '0190a3f4-0000-7000-8000-0000000000f1';

/** An upstream that answers 200 `{ok: true}` to anything and records what reached it. */
function recordingUpstream(name: string) {
  return startStub((app) => {
    app.all('/*', async (req) => {
      received.push({ method: req.method, url: `${name}${req.url}`, headers: req.headers, body: req.body });
      return { ok: true };
    });
  });
}

beforeAll(async () => {
  auth = await recordingUpstream('auth-service');
  form = await recordingUpstream('form-service');
  gateway = await buildGateway({
    AUTH_SERVICE_URL: auth.url,
    FORM_SERVICE_URL: form.url,
    LOGIN_RATE_LIMIT: '10000',
  });
});

afterAll(async () => {
  await gateway?.close();
  await auth?.close();
  await form?.close();
});

beforeEach(() => {
  received.length = 0;
});

async function send(
  method: string,
  url: string,
  payload?: string | object,
  headers: Record<string, string> = {},
) {
  const res = await gateway.inject({
    method: method as 'GET',
    url,
    headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(payload === undefined
      ? {}
      : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
  let body: { message?: string; fields?: Record<string, string> } = {};
  try {
    body = res.json();
  } catch {
    // every answer must be JSON: the assertion below says so
  }
  return {
    status: res.statusCode,
    body,
    raw: res.body,
    describe: `${method} ${url.slice(0, 120)} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
  };
}

/** A 4xx with a JSON message, and nothing forwarded to a service. */
function expectRefusedAtTheGate(res: Awaited<ReturnType<typeof send>>, status?: number) {
  if (status !== undefined) expect(res.status, res.describe).toBe(status);
  expect(res.status, res.describe).toBeGreaterThanOrEqual(400);
  expect(res.status, res.describe).toBeLessThan(500);
  expect(res.body.message, res.describe).toEqual(expect.any(String));
  expect(res.body.message?.length, res.describe).toBeGreaterThan(5);
  expect(
    received.map((r) => `${r.method} ${r.url}`),
    `${res.describe} reached a service`,
  ).toEqual([]);
}

const BODY_ROUTES: [string, string, boolean][] = [
  ['POST', '/api/auth/signup', false],
  ['POST', '/api/auth/login', false],
  ['POST', '/api/forms', true],
  ['POST', `/api/forms/${FORM}/submissions`, false],
];

describe('api-gateway refuses bad input at the gate with a 4xx that says why', () => {
  it('malformed JSON and non-object bodies on every body route: 400', async () => {
    const headers = bearer(await tokens.valid(USER));
    for (const [method, url, needsToken] of BODY_ROUTES) {
      for (const body of ['{"email":', '{title: "x"}', '{"a":1}}', 'null', '[]', '"s"', '3']) {
        const res = await send(method, url, body, needsToken ? headers : {});
        expectRefusedAtTheGate(res, 400);
      }
      expect((await send(method, url, '{"x":', needsToken ? headers : {})).body.message).toMatch(/JSON/i);
    }
  });

  it('wrong types: 400 naming each field', async () => {
    const headers = bearer(await tokens.valid(USER));
    const cases: [string, string, object, string[], boolean][] = [
      ['POST', '/api/auth/signup', { email: 1, password: null }, ['email', 'password'], false],
      ['POST', '/api/auth/login', { email: ['a'], password: {} }, ['email', 'password'], false],
      ['POST', '/api/forms', { title: 5, fields: 'all' }, ['title', 'fields'], true],
      ['POST', `/api/forms/${FORM}/submissions`, { answers: 'yes' }, ['answers'], false],
      ['POST', `/api/forms/${FORM}/submissions`, { answers: { a: { nested: true } } }, ['answers.a'], false],
    ];
    for (const [method, url, body, fields, needsToken] of cases) {
      const res = await send(method, url, body, needsToken ? headers : {});
      expectRefusedAtTheGate(res, 400);
      expect(Object.keys(res.body.fields ?? {}).sort(), res.describe).toEqual([...fields].sort());
    }
  });

  it('unknown fields: 400 naming them', async () => {
    const headers = bearer(await tokens.valid(USER));
    const cases: [string, object, string, boolean][] = [
      ['/api/auth/signup', { email: 'a@example.com', password: 'long enough', role: 'admin' }, 'role', false],
      ['/api/auth/login', { email: 'a@example.com', password: 'x', remember: true }, 'remember', false],
      ['/api/forms', { title: 'T', fields: [], ownerId: 'victim' }, 'ownerId', true],
      [`/api/forms/${FORM}/submissions`, { answers: {}, formId: 'other' }, 'formId', false],
    ];
    for (const [url, body, field, needsToken] of cases) {
      const res = await send('POST', url, body, needsToken ? headers : {});
      expectRefusedAtTheGate(res, 400);
      expect(res.body.fields?.[field], res.describe).toBe('unknown field');
    }
  });

  it('an oversized body (over BODY_LIMIT_BYTES, 100 KiB): 413', async () => {
    const res = await send('POST', `/api/forms/${FORM}/submissions`, {
      answers: { a: 'x'.repeat(200 * 1024) },
    });
    expectRefusedAtTheGate(res, 413);
    expectRefusedAtTheGate(
      await send('POST', '/api/auth/signup', { email: 'a@b.c', password: 'p'.repeat(200 * 1024) }),
      413,
    );
  });

  it('very long strings inside the limit: 400 naming the field', async () => {
    const cases: [string, object, string][] = [
      ['/api/auth/signup', { email: `${'e'.repeat(1000)}@example.com`, password: 'long enough' }, 'email'],
      ['/api/auth/login', { email: 'a@example.com', password: 'p'.repeat(2000) }, 'password'],
      [`/api/forms/${FORM}/submissions`, { answers: { a: 'x'.repeat(20_000) } }, 'answers.a'],
      [`/api/forms/${FORM}/submissions`, { answers: { ['k'.repeat(500)]: 'x' } }, 'answers'],
    ];
    for (const [url, body, field] of cases) {
      const res = await send('POST', url, body);
      expectRefusedAtTheGate(res, 400);
      expect(
        Object.keys(res.body.fields ?? {}).some((f) => f.startsWith(field)),
        res.describe,
      ).toBe(true);
    }
  });

  it('SQL injection and path traversal in form ids: 404 without a call to form-service', async () => {
    const headers = bearer(await tokens.valid(USER));
    const ids = [
      "' OR '1'='1",
      '1;DROP TABLE forms',
      '..',
      '../../etc/passwd',
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..\\..\\win.ini',
      'id%00.json',
    ];
    for (const id of ids) {
      const encoded = id.includes('%') ? id : encodeURIComponent(id);
      for (const [method, suffix, body, h] of [
        ['GET', '', undefined, {}],
        ['POST', '/submissions', { answers: {} }, {}],
        ['GET', '/submissions', undefined, headers],
      ] as const) {
        const res = await send(method, `/api/forms/${encoded}${suffix}`, body, h);
        expectRefusedAtTheGate(res);
        expect(res.raw).not.toMatch(/root:|\[fonts\]/);
      }
    }
  });

  it('invalid JWTs on every protected route: 401 saying why, and nothing forwarded', async () => {
    const bad: [string, string, RegExp][] = [
      ['expired', await tokens.expired(USER), /expired/],
      ['wrong signature', await tokens.wrongSignature(USER), /signature/],
      ['alg none', await tokens.algNone(USER), /invalid token/],
      ['wrong issuer', await tokens.wrongIssuer(USER), /claim "iss"/],
      ['no expiry', await tokens.noExpiry(USER), /claim "exp"/],
      ['garbage', 'aaa.bbb.ccc', /invalid token/],
    ];
    const protectedRoutes: [string, string, object | undefined][] = [
      ['GET', '/api/auth/me', undefined],
      ['GET', '/api/forms', undefined],
      ['POST', '/api/forms', { title: 'T', fields: [] }],
      ['GET', `/api/forms/${FORM}/submissions`, undefined],
    ];
    for (const [method, url, body] of protectedRoutes) {
      for (const [what, token, reason] of bad) {
        const res = await send(method, url, body, bearer(token));
        expectRefusedAtTheGate(res, 401);
        expect(res.body.message, `${what}: ${res.describe}`).toMatch(reason);
      }
      for (const header of ['', 'Bearer', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(9000)}`, 'Bearer a.b']) {
        expectRefusedAtTheGate(await send(method, url, body, header ? { authorization: header } : {}), 401);
      }
    }
  });

  it('a client cannot choose its user: a sent x-user-id is replaced by the token subject', async () => {
    const token = await tokens.valid(USER);
    const res = await send('GET', '/api/forms', undefined, { ...bearer(token), 'x-user-id': 'victim' });
    expect(res.status, res.describe).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['x-user-id']).toBe(USER);
    received.length = 0;
    const anonymous = await send('GET', '/api/forms', undefined, { 'x-user-id': USER });
    expectRefusedAtTheGate(anonymous, 401);
  });

  it('unknown routes and methods: 404 with a message, nothing forwarded', async () => {
    for (const [method, url] of [
      ['GET', '/api/users'],
      ['DELETE', `/api/forms/${FORM}`],
      ['PUT', '/api/auth/login'],
      ['GET', '/api/../../etc/passwd'],
      ['GET', '/api/forms/x/submissions/../../../admin'],
    ] as const) {
      expectRefusedAtTheGate(await send(method, url), 404);
    }
  });

  it('after all of it the gateway still answers', async () => {
    const health = await send('GET', '/health');
    expect(health.status, health.describe).toBe(200);
  });
});
