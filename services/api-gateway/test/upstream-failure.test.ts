import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildGateway, closedPortUrl, startStub, tokens } from './helpers';

describe('an upstream that is down', () => {
  let gateway: FastifyInstance;
  let authUrl: string;
  let formUrl: string;
  beforeAll(async () => {
    authUrl = await closedPortUrl();
    formUrl = await closedPortUrl();
    gateway = await buildGateway({ AUTH_SERVICE_URL: authUrl, FORM_SERVICE_URL: formUrl });
  });
  afterAll(() => gateway?.close());

  it('answers 502 naming auth-service and where it was looked for', async () => {
    const res = await gateway.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'a@example.org', password: 'whatever1' },
    });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      message: `auth-service unreachable at ${new URL(authUrl).host} (ECONNREFUSED)`,
      upstream: 'auth-service',
      code: 'ECONNREFUSED',
      requestId: res.headers['x-request-id'],
    });
    expect(res.json().requestId).toMatch(/\S/);
  });

  it('answers 502 naming form-service, on public and protected routes alike', async () => {
    const publicRes = await gateway.inject({ method: 'GET', url: '/api/forms/f-1' });
    const protectedRes = await gateway.inject({
      method: 'GET',
      url: '/api/forms',
      headers: bearer(await tokens.valid('u-1')),
    });
    for (const res of [publicRes, protectedRes]) {
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ upstream: 'form-service', code: 'ECONNREFUSED' });
      expect(res.json().message).toContain(`form-service unreachable at ${new URL(formUrl).host}`);
    }
  });

  it('/ready answers 503 naming what is unreachable', async () => {
    const res = await gateway.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toMatchObject({ 'auth-service': { ok: false }, 'form-service': { ok: false } });
  });
});

describe('an upstream that is broken or slow', () => {
  let gateway: FastifyInstance;
  let stub: Awaited<ReturnType<typeof startStub>>;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  beforeAll(async () => {
    stub = await startStub((app) => {
      app.get('/forms/:id', async (req) => {
        if ((req.params as { id: string }).id === 'slow') await released;
        throw new Error('database on fire: password=hunter2');
      });
    });
    gateway = await buildGateway({ FORM_SERVICE_URL: stub.url, UPSTREAM_TIMEOUT_MS: '200' });
  });
  afterAll(async () => {
    release();
    await gateway?.close();
    await stub?.close();
  });

  it('answers 504 naming form-service once UPSTREAM_TIMEOUT_MS passes', async () => {
    const res = await gateway.inject({ method: 'GET', url: '/api/forms/slow' });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({
      upstream: 'form-service',
      message: `form-service timed out after 200 ms at ${new URL(stub.url).host}`,
    });
  });

  it("answers 502 naming form-service for its 500, without repeating the upstream's internals", async () => {
    const res = await gateway.inject({ method: 'GET', url: '/api/forms/broken' });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ upstream: 'form-service', code: 'HTTP_500' });
    expect(res.body).not.toContain('hunter2');
  });
});
