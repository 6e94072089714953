import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { closedPortUrl, silentLogger, startService, TEST_SECRET, testConfig, waitForHealth } from './helpers';

// The real data-service (its own process, embedded database in a temporary folder) behind auth-service.
const dataDir = new URL('../../data/', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'auth-with-data-'));
let data: ReturnType<typeof startService>;
let app: FastifyInstance;

beforeAll(async () => {
  const dataUrl = await closedPortUrl();
  data = startService(dataDir, {
    NODE_ENV: 'test',
    PORT: new URL(dataUrl).port,
    DATABASE_FILE: join(scratch, 'app.db'),
  });
  await waitForHealth(dataUrl, data);
  app = buildApp({
    config: testConfig({ DATA_SERVICE_URL: dataUrl }),
    logger: silentLogger(),
    jwtSecret: TEST_SECRET,
  });
}, 30_000);
afterAll(async () => {
  data?.stop();
  await app?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('auth-service + real data-service', () => {
  it('signs up, refuses the same email in another case, logs in, and answers /me', async () => {
    const signup = await app.inject({
      method: 'POST',
      url: '/signup',
      payload: { email: 'Gina@Example.org', password: 'ginas password' },
    });
    expect(signup.statusCode).toBe(201);
    const { user, token } = signup.json();
    expect(user.email).toBe('gina@example.org');

    const again = await app.inject({
      method: 'POST',
      url: '/signup',
      payload: { email: 'GINA@example.org', password: 'other password' },
    });
    expect(again.statusCode).toBe(409);

    const login = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { email: 'gina@example.org', password: 'ginas password' },
    });
    expect(login.statusCode).toBe(200);
    const wrong = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { email: 'gina@example.org', password: 'other password' },
    });
    expect(wrong.statusCode).toBe(401);

    const me = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(user);
  });

  it('is ready while data-service answers', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
  });
});
