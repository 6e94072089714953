// auth-service's answers (docs/internal-api.md) are what the gateway and the frontend read. When a
// change inside auth-service makes one drift -- a user field renamed in its store, an id of the wrong
// type -- the route answers 500 and auth-service logs, at error, the route and each field. The real
// app and its real user store over a stub data-service that keeps the contract; only the store's
// answers to the routes are made to drift.
import { fileURLToPath } from 'node:url';
import { createLogger, createServiceClient } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { createUserStore, type UserStore } from '../src/users';
import { type Stub, startDataServiceStub, TEST_SECRET, testConfig } from './helpers';

const ME_ROUTE = fileURLToPath(new URL('../src/routes/me.ts', import.meta.url));

let data: Stub;
beforeAll(async () => {
  data = await startDataServiceStub();
});
afterAll(async () => {
  await data?.close();
});

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function driftedApp(drift: (users: UserStore) => UserStore) {
  const config = testConfig({ DATA_SERVICE_URL: data.url });
  const users = createUserStore(
    createServiceClient({ name: 'data-service', baseUrl: data.url, timeoutMs: 5000 }),
  );
  const lines: Record<string, unknown>[] = [];
  app = buildApp({
    config,
    jwtSecret: TEST_SECRET,
    users: drift(users),
    logger: createLogger({
      service: 'auth-service',
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the assertions read the logged record field by field
  return { app, errors: () => lines.filter((line) => line.level === 50) as Record<string, any>[] };
}

const credentials = (email: string) => ({ email, password: 'correct-horse-1' });

describe('auth-service answers that break its contract', () => {
  it('GET /me after the store renamed email: 500 logged with the route and the field', async () => {
    const { app, errors } = driftedApp((users) => ({
      ...users,
      findById: async (id) => {
        const user = await users.findById(id);
        return user && ({ id: user.id, mail: user.email } as never);
      },
    }));
    const signup = await app.inject({
      method: 'POST',
      url: '/signup',
      payload: credentials('me@example.com'),
    });
    expect(signup.statusCode).toBe(201);
    const res = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${signup.json().token}`, 'x-request-id': 'me-1' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      message: 'auth-service answered GET /me with a body that breaks its response schema',
      requestId: 'me-1',
    });
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({
      route: 'GET /me',
      msg: 'auth-service GET /me answered 200 with a body that breaks its response schema: email: Invalid input: expected string, received undefined',
    });
    expect(errors()[0]?.err.stack).toContain(`${ME_ROUTE}:`);
  });

  it('POST /signup after the store renamed email: 500 naming user.email, no token answered', async () => {
    const { app, errors } = driftedApp((users) => ({
      ...users,
      create: async (email, hash) => {
        const { email: stored, ...user } = await users.create(email, hash);
        return { ...user, mail: stored } as never;
      },
    }));
    const res = await app.inject({ method: 'POST', url: '/signup', payload: credentials('num@example.com') });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('token');
    expect(errors()[0]?.mismatches).toEqual([
      { field: 'user.email', problem: 'Invalid input: expected string, received undefined' },
    ]);
  });
});
