import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildGateway,
  closedPortUrl,
  type Stub,
  startService,
  startStub,
  TEST_SECRET,
  waitForHealth,
} from './helpers';

// The real auth-service (its own process, over HTTP) behind the gateway, sharing the JWT secret:
// tokens it issues must open the gateway's protected routes. data-service and form-service are stubs.
const authDir = new URL('../../auth/', import.meta.url).pathname;

let data: Stub;
let form: Stub;
let auth: ReturnType<typeof startService>;
let gateway: FastifyInstance;
const formCalls: { userId?: string }[] = [];

beforeAll(async () => {
  const users = new Map<string, { id: string; email: string; passwordHash: string }>();
  data = await startStub((app) => {
    app.post('/users', async (req, reply) => {
      const { email, passwordHash } = req.body as { email: string; passwordHash: string };
      if ([...users.values()].some((u) => u.email === email))
        return reply.code(409).send({ message: 'exists' });
      const user = { id: randomUUID(), email, passwordHash };
      users.set(user.id, user);
      return reply.code(201).send({ id: user.id, email, createdAt: new Date().toISOString() });
    });
    app.get('/users/by-email/:email', async (req, reply) => {
      const user = [...users.values()].find((u) => u.email === (req.params as { email: string }).email);
      return user ?? reply.code(404).send({ message: 'not found' });
    });
    app.get('/users/:id', async (req, reply) => {
      const user = users.get((req.params as { id: string }).id);
      return user ? { id: user.id, email: user.email } : reply.code(404).send({ message: 'not found' });
    });
  });
  form = await startStub((app) => {
    app.get('/forms', async (req) => {
      formCalls.push({ userId: req.headers['x-user-id'] as string | undefined });
      return [];
    });
  });
  const authUrl = await closedPortUrl();
  auth = startService(authDir, {
    NODE_ENV: 'test',
    PORT: new URL(authUrl).port,
    JWT_SECRET: TEST_SECRET,
    DATA_SERVICE_URL: data.url,
  });
  await waitForHealth(authUrl, auth);
  gateway = await buildGateway({ AUTH_SERVICE_URL: authUrl, FORM_SERVICE_URL: form.url });
}, 30_000);
afterAll(async () => {
  auth?.stop();
  await gateway?.close();
  await form?.close();
  await data?.close();
});

describe('gateway + real auth-service', () => {
  const credentials = { email: 'Erin@Example.org', password: 'erins password' };

  it('signs up, logs in, and the token opens /api/auth/me and /api/forms as that user', async () => {
    const signup = await gateway.inject({ method: 'POST', url: '/api/auth/signup', payload: credentials });
    expect(signup.statusCode).toBe(201);
    const { user, token } = signup.json();
    expect(user).toEqual({ id: expect.any(String), email: 'erin@example.org' });

    const login = await gateway.inject({ method: 'POST', url: '/api/auth/login', payload: credentials });
    expect(login.statusCode).toBe(200);

    for (const issued of [token, login.json().token]) {
      const me = await gateway.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(issued) });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual(user);
      const forms = await gateway.inject({ method: 'GET', url: '/api/forms', headers: bearer(issued) });
      expect(forms.statusCode).toBe(200);
    }
    expect(formCalls.map((c) => c.userId)).toEqual([user.id, user.id]);
  });

  it("answers auth-service's 409, 400 and 401 through the gateway", async () => {
    const again = await gateway.inject({ method: 'POST', url: '/api/auth/signup', payload: credentials });
    expect(again.statusCode).toBe(409);
    const short = await gateway.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email: 'frank@example.org', password: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().fields.password).toContain('at least 8');
    const wrong = await gateway.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { ...credentials, password: 'not erins password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ message: 'wrong email or password' });
  });
});
