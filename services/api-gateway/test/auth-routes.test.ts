import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildGateway, startStub, tokens } from './helpers';

interface Call {
  path: string;
  body: unknown;
  authorization?: string;
}

// auth-service as docs/internal-api.md describes it, with one known account.
let calls: Call[] = [];
let auth: Awaited<ReturnType<typeof startStub>>;
let gateway: FastifyInstance;

beforeAll(async () => {
  auth = await startStub((app) => {
    app.addHook('preHandler', async (req) => {
      calls.push({ path: req.url, body: req.body, authorization: req.headers.authorization });
    });
    app.post('/signup', async (req, reply) => {
      const { email, password } = req.body as { email: string; password: string };
      if (password.length < 8) {
        return reply
          .code(400)
          .send({ message: 'invalid request body', fields: { password: 'must be at least 8 characters' } });
      }
      if (email === 'taken@example.org')
        return reply.code(409).send({ message: 'an account with this email already exists' });
      return reply.code(201).send({ user: { id: 'u-new', email }, token: 'new.token.here' });
    });
    app.post('/login', async (req, reply) => {
      const { email, password } = req.body as { email: string; password: string };
      if (email === 'ann@example.org' && password === 'anns password') return { token: 'ann.token.here' };
      return reply.code(401).send({ message: 'wrong email or password' });
    });
    app.get('/me', async () => ({ id: 'u-ann', email: 'ann@example.org' }));
  });
  gateway = await buildGateway({ AUTH_SERVICE_URL: auth.url, LOGIN_RATE_LIMIT: '3' });
});
afterAll(async () => {
  await gateway?.close();
  await auth?.close();
});
beforeEach(() => {
  calls = [];
});

const post = (url: string, payload: object, remoteAddress = '127.0.0.1') =>
  gateway.inject({ method: 'POST', url, payload, remoteAddress });

describe('POST /api/auth/signup', () => {
  it('forwards to auth-service and answers 201 with its body', async () => {
    const res = await post('/api/auth/signup', { email: 'new@example.org', password: 'long enough' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ user: { id: 'u-new', email: 'new@example.org' }, token: 'new.token.here' });
    expect(calls).toEqual([
      {
        path: '/signup',
        body: { email: 'new@example.org', password: 'long enough' },
        authorization: undefined,
      },
    ]);
  });

  it("passes auth-service's 409 and 400 (with its fields) through", async () => {
    const taken = await post('/api/auth/signup', { email: 'taken@example.org', password: 'long enough' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().message).toBe('an account with this email already exists');
    const short = await post('/api/auth/signup', { email: 'x@example.org', password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().fields).toEqual({ password: 'must be at least 8 characters' });
  });

  it('answers 400 itself, without calling auth-service, for a body that is not {email, password}', async () => {
    for (const body of [
      { email: 'x@example.org' },
      { email: 'x@example.org', password: 'long enough', role: 'admin' },
      [],
    ]) {
      const res = await post('/api/auth/signup', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().fields).toBeDefined();
    }
    expect(calls).toEqual([]);
  });

  it('answers 413 for a body over BODY_LIMIT_BYTES', async () => {
    const res = await post('/api/auth/signup', { email: 'x@example.org', password: 'p'.repeat(200 * 1024) });
    expect(res.statusCode).toBe(413);
    expect(calls).toEqual([]);
  });
});

describe('POST /api/auth/login', () => {
  it('answers the token for the right credentials and 401 for wrong ones', async () => {
    const ok = await post(
      '/api/auth/login',
      { email: 'ann@example.org', password: 'anns password' },
      '10.0.0.1',
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ token: 'ann.token.here' });
    const wrong = await post('/api/auth/login', { email: 'ann@example.org', password: 'guess' }, '10.0.0.1');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ message: 'wrong email or password' });
  });

  it('answers 429 after LOGIN_RATE_LIMIT attempts per minute for one address and email, and only for them', async () => {
    const attempt = (email: string, address: string) =>
      post('/api/auth/login', { email, password: 'guess' }, address);
    for (let i = 0; i < 3; i++) expect((await attempt('bob@example.org', '10.0.0.2')).statusCode).toBe(401);
    const limited = await attempt('BOB@example.org ', '10.0.0.2');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().message).toContain('too many login attempts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(calls).toHaveLength(3);

    expect((await attempt('carol@example.org', '10.0.0.2')).statusCode).toBe(401);
    expect((await attempt('bob@example.org', '10.0.0.3')).statusCode).toBe(401);
  });
});

describe('GET /api/auth/me', () => {
  it('checks the token, then forwards it to auth-service', async () => {
    const token = await tokens.valid('u-ann', 'ann@example.org');
    const res = await gateway.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 'u-ann', email: 'ann@example.org' });
    expect(calls).toEqual([{ path: '/me', body: undefined, authorization: `Bearer ${token}` }]);
  });

  it.each([
    ['no token', async () => undefined],
    ['an expired token', () => tokens.expired('u-ann')],
    ['a token signed with another secret', () => tokens.wrongSignature('u-ann')],
    ['an unsigned alg:none token', () => tokens.algNone('u-ann')],
  ])('answers 401 for %s without calling auth-service', async (_what, make) => {
    const token = await make();
    const res = await gateway.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: token ? bearer(token) : {},
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ message: expect.any(String) });
    expect(calls).toEqual([]);
  });
});
