import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { closedPortUrl, silentLogger, startStub, TEST_SECRET, testConfig } from './helpers';

const credentials = { email: 'dana@example.org', password: 'danas password' };

describe('data-service down', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    url = await closedPortUrl();
    app = buildApp({
      config: testConfig({ DATA_SERVICE_URL: url }),
      logger: silentLogger(),
      jwtSecret: TEST_SECRET,
    });
  });
  afterAll(() => app?.close());

  it('signup and login answer 502 naming data-service and its address', async () => {
    for (const url_ of ['/signup', '/login']) {
      const res = await app.inject({ method: 'POST', url: url_, payload: credentials });
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ upstream: 'data-service', code: 'ECONNREFUSED' });
      expect(res.json().message).toContain(`data-service unreachable at ${new URL(url).host}`);
    }
  });

  it('/ready answers 503 with the reason', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks['data-service']).toMatchObject({
      ok: false,
      error: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('data-service too slow', () => {
  let app: FastifyInstance;
  let stub: Awaited<ReturnType<typeof startStub>>;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  beforeAll(async () => {
    stub = await startStub((s) => {
      s.get('/users/by-email/:email', async () => {
        await released;
        return {};
      });
    });
    app = buildApp({
      config: testConfig({ DATA_SERVICE_URL: stub.url, UPSTREAM_TIMEOUT_MS: '200' }),
      logger: silentLogger(),
      jwtSecret: TEST_SECRET,
    });
  });
  afterAll(async () => {
    release();
    await app?.close();
    await stub?.close();
  });

  it('login answers 504 naming data-service once UPSTREAM_TIMEOUT_MS passes', async () => {
    const res = await app.inject({ method: 'POST', url: '/login', payload: credentials });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({
      upstream: 'data-service',
      message: expect.stringContaining('timed out after 200 ms'),
    });
  });
});

describe('data-service answering off contract', () => {
  let app: FastifyInstance;
  let stub: Awaited<ReturnType<typeof startStub>>;
  beforeAll(async () => {
    stub = await startStub((s) => {
      s.post('/users', async (_req, reply) => reply.code(201).send({ created: true }));
    });
    app = buildApp({
      config: testConfig({ DATA_SERVICE_URL: stub.url }),
      logger: silentLogger(),
      jwtSecret: TEST_SECRET,
    });
  });
  afterAll(async () => {
    await app?.close();
    await stub?.close();
  });

  it('signup answers 502 saying which call broke the contract', async () => {
    const res = await app.inject({ method: 'POST', url: '/signup', payload: credentials });
    expect(res.statusCode).toBe(502);
    expect(res.json().message).toContain('data-service answered POST /users with an unexpected body');
  });
});
