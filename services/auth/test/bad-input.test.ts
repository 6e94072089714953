import { startRealDataService } from '@repo/test-utils';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { ISSUER } from '../src/tokens';
import { silentLogger, TEST_SECRET, testConfig, tokens } from './helpers';

let dataService: Awaited<ReturnType<typeof startRealDataService>>;
let dataUrl = '';
let app: FastifyInstance;
/** Every email a request below tried to sign up with: none of them may exist afterwards. */
const attemptedEmails = new Set<string>();

beforeAll(async () => {
  dataService = await startRealDataService();
  dataUrl = dataService.url;
  app = buildApp({
    config: testConfig({ DATA_SERVICE_URL: dataUrl }),
    logger: silentLogger(),
    jwtSecret: TEST_SECRET,
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await dataService?.stop();
});

async function send(
  method: 'GET' | 'POST',
  url: string,
  payload?: string | object,
  headers: Record<string, string> = {},
) {
  if (payload && typeof payload === 'object') {
    const email = (payload as { email?: unknown }).email;
    // Longer addresses cannot be stored (data-service refuses them) nor looked up (URL limits).
    if (typeof email === 'string' && email.length <= 320) attemptedEmails.add(email);
  }
  const res = await app.inject({
    method,
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
    describe: `${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
  };
}

function expectClearRefusal(res: Awaited<ReturnType<typeof send>>, status?: number) {
  if (status !== undefined) expect(res.status, res.describe).toBe(status);
  expect(res.status, res.describe).toBeGreaterThanOrEqual(400);
  expect(res.status, res.describe).toBeLessThan(500);
  expect(res.body.message, res.describe).toEqual(expect.any(String));
  expect(res.body.message?.length, res.describe).toBeGreaterThan(5);
}

const BODY_ROUTES = ['/signup', '/login', '/verify'];

describe('auth-service refuses bad input with a 4xx that says why', () => {
  it('malformed JSON: 400 naming JSON', async () => {
    for (const path of BODY_ROUTES) {
      for (const body of ['{"email":', "{'email':'a@b.c'}", '{"a":1}}', 'undefined']) {
        const res = await send('POST', path, body);
        expectClearRefusal(res, 400);
        expect(res.body.message, res.describe).toMatch(/JSON/i);
      }
    }
  });

  it('a body that is not an object: 400', async () => {
    for (const path of BODY_ROUTES) {
      for (const body of ['null', '[]', '"a@b.c"', '1'])
        expectClearRefusal(await send('POST', path, body), 400);
    }
  });

  it('wrong types and missing fields: 400 naming each field', async () => {
    const cases: [string, unknown, string[]][] = [
      ['/signup', { email: 1, password: 12345678 }, ['email', 'password']],
      ['/signup', { email: ['a@b.c'], password: { long: true } }, ['email', 'password']],
      ['/signup', {}, ['email', 'password']],
      ['/login', { email: null, password: false }, ['email', 'password']],
      ['/verify', { token: 42 }, ['token']],
    ];
    for (const [path, body, fields] of cases) {
      const res = await send('POST', path, body as object);
      expectClearRefusal(res, 400);
      expect(Object.keys(res.body.fields ?? {}).sort(), res.describe).toEqual([...fields].sort());
    }
  });

  it('unknown fields (role escalation attempts): 400 naming them', async () => {
    for (const extra of ['role', 'isAdmin', 'id', 'passwordHash']) {
      const res = await send('POST', '/signup', {
        email: `extra-${extra.toLowerCase()}@example.com`,
        password: 'long enough password',
        [extra]: 'admin',
      });
      expectClearRefusal(res, 400);
      expect(res.body.fields?.[extra], res.describe).toBe('unknown field');
    }
  });

  it('an oversized body (over its 16 KiB limit): 413', async () => {
    const res = await send('POST', '/signup', { email: 'big@example.com', password: 'p'.repeat(20 * 1024) });
    expectClearRefusal(res, 413);
  });

  it('very long strings inside the limit: 400 naming the field', async () => {
    const longPassword = await send('POST', '/signup', {
      email: 'long-pw@example.com',
      password: 'p'.repeat(2000),
    });
    expectClearRefusal(longPassword, 400);
    expect(longPassword.body.fields?.password).toMatch(/at most 1024/);
    const longEmail = await send('POST', '/signup', {
      email: `${'e'.repeat(5000)}@example.com`,
      password: 'long enough password',
    });
    expectClearRefusal(longEmail, 400);
    expect(longEmail.body.fields?.email).toEqual(expect.any(String));
    const longLogin = await send('POST', '/login', { email: 'a@example.com', password: 'p'.repeat(5000) });
    expectClearRefusal(longLogin, 400);
  });

  it('SQL injection and path traversal as emails: 400 or 401, never an account or a token', async () => {
    const hostile = [
      "' OR '1'='1",
      "admin'--@example.com",
      "x@example.com' OR 1=1 --",
      "'; DROP TABLE users; --@example.com",
      '../../etc/passwd',
      '..%2F..%2Fetc%2Fpasswd@example.com',
      'a@example.com\r\nBcc: victim@example.com',
    ];
    for (const email of hostile) {
      const signup = await send('POST', '/signup', { email, password: 'long enough password' });
      // Some of these are syntactically valid addresses (quotes and apostrophes are legal); if
      // one is accepted it must be stored verbatim as data, which the final check accounts for.
      if (signup.status !== 201) expectClearRefusal(signup, 400);
      const login = await send('POST', '/login', { email: "' OR '1'='1", password: "' OR '1'='1" });
      expectClearRefusal(login);
      expect([400, 401], login.describe).toContain(login.status);
    }
  });

  it('invalid JWTs on GET /me and POST /verify: 401 saying why', async () => {
    const sub = '00000000-0000-7000-8000-000000000001';
    const email = 'nobody@example.com';
    const wrongSignature = await tokens.valid(sub, email, 'another-secret-another-secret-another!!');
    const cases: [string, string, RegExp][] = [
      ['expired', await tokens.expired(sub, email), /expired/],
      ['wrong signature', wrongSignature, /signature/],
      ['alg none', tokens.algNone(sub, email), /invalid token/],
      ['wrong issuer', await tokens.wrongIssuer(sub, email), /claim "iss"/],
      ['signature stripped', `${wrongSignature.split('.').slice(0, 2).join('.')}.`, /invalid token/],
      ['garbage', 'abc.def.ghi', /invalid token/],
      [
        'no expiry',
        await new SignJWT({ email })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(sub)
          .setIssuer(ISSUER)
          .sign(new TextEncoder().encode(TEST_SECRET)),
        /claim "exp"/,
      ],
    ];
    for (const [what, token, reason] of cases) {
      const me = await send('GET', '/me', undefined, { authorization: `Bearer ${token}` });
      expectClearRefusal(me, 401);
      expect(me.body.message, `${what}: ${me.describe}`).toMatch(reason);
      const verify = await send('POST', '/verify', { token });
      expectClearRefusal(verify, 401);
      expect(verify.body.message, `${what}: ${verify.describe}`).toMatch(reason);
    }
    for (const header of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      `Bearer ${'a'.repeat(10_000)}`,
      'token abc.def.ghi',
    ]) {
      expectClearRefusal(await send('GET', '/me', undefined, { authorization: header }), 401);
    }
    expectClearRefusal(await send('GET', '/me'), 401);
  });

  it('a valid token whose account does not exist: 401', async () => {
    const token = await tokens.valid('00000000-0000-7000-8000-00000000dead', 'ghost@example.com');
    const res = await send('GET', '/me', undefined, { authorization: `Bearer ${token}` });
    expectClearRefusal(res, 401);
    expect(res.body.message).toMatch(/no longer exists/);
  });

  it('after all of it no refused account exists in data-service, and both services answer', async () => {
    for (const email of attemptedEmails) {
      const res = await fetch(`${dataUrl}/users/by-email/${encodeURIComponent(email.trim().toLowerCase())}`);
      const text = await res.text();
      // The only accounts allowed are syntactically valid addresses that signup answered 201 for.
      if (res.status === 200) {
        const signup = await send('POST', '/signup', { email, password: 'long enough password' });
        expect(signup.status, `${email} exists in data-service: ${text}`).toBe(409);
      } else {
        expect(res.status, `${email}: ${text}`).toBe(404);
      }
    }
    expect((await send('GET', '/health')).status).toBe(200);
    expect((await send('GET', '/ready')).status).toBe(200);
    expect((await fetch(`${dataUrl}/health`)).status).toBe(200);
  });
});
