import type { FastifyInstance } from 'fastify';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { ISSUER } from '../src/tokens';
import {
  CHEAP_SCRYPT_COST,
  defaultCostConfig,
  silentLogger,
  startDataServiceStub,
  TEST_SECRET,
  testConfig,
  tokens,
} from './helpers';

let data: Awaited<ReturnType<typeof startDataServiceStub>>;
let app: FastifyInstance;

beforeAll(async () => {
  data = await startDataServiceStub();
  // The default scrypt cost, as in production: this file checks the hash the route stores.
  app = buildApp({
    config: defaultCostConfig({ DATA_SERVICE_URL: data.url }),
    logger: silentLogger(),
    jwtSecret: TEST_SECRET,
  });
});
afterAll(async () => {
  await app?.close();
  await data?.close();
});

const signup = (body: unknown) => app.inject({ method: 'POST', url: '/signup', payload: body as object });
const login = (body: unknown) => app.inject({ method: 'POST', url: '/login', payload: body as object });
const me = (token?: string) =>
  app.inject({ method: 'GET', url: '/me', headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('POST /signup', () => {
  it('creates the account with a lowercased email and answers a token for it', async () => {
    const res = await signup({ email: '  Ann@Example.ORG ', password: 'correct horse' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toEqual({ id: expect.any(String), email: 'ann@example.org' });
    const { payload, protectedHeader } = await jwtVerify(body.token, new TextEncoder().encode(TEST_SECRET), {
      issuer: ISSUER,
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: body.user.id, email: 'ann@example.org', iss: 'devstack-auth' });
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
  });

  it('stores an scrypt hash, never the password', async () => {
    await signup({ email: 'hash@example.org', password: 'plain text secret' });
    const stored = [...data.users.values()].find((u) => u.email === 'hash@example.org');
    expect(stored?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored?.passwordHash).not.toContain('plain text secret');
  });

  it('hashes at the configured SCRYPT_COST, and the account logs in', async () => {
    const cheap = buildApp({
      config: testConfig({ DATA_SERVICE_URL: data.url, SCRYPT_COST: CHEAP_SCRYPT_COST }),
      logger: silentLogger(),
      jwtSecret: TEST_SECRET,
    });
    try {
      const created = await cheap.inject({
        method: 'POST',
        url: '/signup',
        payload: { email: 'cost@example.org', password: 'cheap but salted' },
      });
      expect(created.statusCode, created.body).toBe(201);
      const stored = [...data.users.values()].find((u) => u.email === 'cost@example.org');
      expect(stored?.passwordHash).toMatch(/^scrypt\$1024\$8\$1\$/);
      // The cost travels with the hash: an app at the default cost still verifies it.
      const res = await login({ email: 'cost@example.org', password: 'cheap but salted' });
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      await cheap.close();
    }
  });

  it('answers 409 when the email exists, whatever its case', async () => {
    await signup({ email: 'twice@example.org', password: 'password one' });
    const res = await signup({ email: 'TWICE@example.org', password: 'password two' });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toBe('an account with this email already exists');
  });

  it.each([
    [{ email: 'short@example.org', password: 'seven77' }, 'password', 'at least 8'],
    [{ email: 'not-an-email', password: 'long enough' }, 'email', 'email address'],
    [{ password: 'long enough' }, 'email', ''],
    [{ email: 'x@example.org', password: 'long enough', admin: true }, 'admin', 'unknown field'],
    [{ email: 'x@example.org', password: 12345678 }, 'password', ''],
  ])('answers 400 naming the bad field for %j', async (body, field, problem) => {
    const res = await signup(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[field]).toContain(problem);
  });
});

describe('POST /login', () => {
  beforeAll(async () => {
    await signup({ email: 'bob@example.org', password: 'bobs password' });
  });

  it('answers a token for the right password, with the email in any case', async () => {
    const res = await login({ email: 'Bob@Example.org', password: 'bobs password' });
    expect(res.statusCode).toBe(200);
    const { payload } = await jwtVerify(res.json().token, new TextEncoder().encode(TEST_SECRET));
    expect(payload.email).toBe('bob@example.org');
  });

  it('answers the same 401 for a wrong password and for an unknown email', async () => {
    const wrongPassword = await login({ email: 'bob@example.org', password: 'not bobs password' });
    const unknownEmail = await login({ email: 'nobody@example.org', password: 'bobs password' });
    expect(wrongPassword.statusCode).toBe(401);
    expect(unknownEmail.statusCode).toBe(401);
    expect(wrongPassword.json()).toEqual({ message: 'wrong email or password' });
    expect(unknownEmail.json()).toEqual({ message: 'wrong email or password' });
  });

  it('answers 400 for a body that is not credentials', async () => {
    const res = await login({ email: 'bob@example.org' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields.password).toBeDefined();
  });
});

describe('GET /me and POST /verify', () => {
  let user: { id: string; email: string };
  let token: string;
  beforeAll(async () => {
    const res = await signup({ email: 'carol@example.org', password: 'carols password' });
    ({ user, token } = res.json());
  });

  it('GET /me answers the account of a valid token', async () => {
    const res = await me(token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(user);
  });

  it('POST /verify answers the user id and email of a valid token', async () => {
    const res = await app.inject({ method: 'POST', url: '/verify', payload: { token } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: user.id, email: user.email });
  });

  it.each([
    ['no token', async () => undefined, 'no bearer token'],
    ['an expired token', () => tokens.expired(user.id, user.email), 'expired'],
    [
      'a token signed with another secret',
      () => tokens.valid(user.id, user.email, 'x'.repeat(40)),
      'signature',
    ],
    ['an unsigned alg:none token', async () => tokens.algNone(user.id, user.email), 'invalid token'],
    ['a token of another issuer', () => tokens.wrongIssuer(user.id, user.email), 'iss'],
    ['garbage', async () => 'not.a.jwt', 'invalid token'],
  ])('GET /me and POST /verify answer 401 for %s', async (_what, make, reason) => {
    const bad = await make();
    const viaMe = await me(bad);
    expect(viaMe.statusCode).toBe(401);
    expect(viaMe.json().message).toContain(reason);
    if (bad !== undefined) {
      const viaVerify = await app.inject({ method: 'POST', url: '/verify', payload: { token: bad } });
      expect(viaVerify.statusCode).toBe(401);
    }
  });

  it('GET /me answers 401 once the account is gone, even with a valid token', async () => {
    const res = await signup({ email: 'gone@example.org', password: 'soon deleted' });
    const { user: gone, token: goneToken } = res.json();
    data.users.delete(gone.id);
    const after = await me(goneToken);
    expect(after.statusCode).toBe(401);
    expect(after.json().message).toContain('no longer exists');
  });
});

describe('GET /ready', () => {
  it('is ready while data-service answers', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json().checks['data-service'].ok).toBe(true);
  });
});
