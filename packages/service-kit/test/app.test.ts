import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../src/app';
import { badRequest, HttpError } from '../src/errors';
import { createLogger } from '../src/logger';
import { currentRequestId } from '../src/request-context';
import { parseInput } from '../src/validation';

const logger = createLogger({ service: 'test-service', level: 'silent' });
let app: ReturnType<typeof createApp>;
afterEach(() => app?.close());

describe('createApp', () => {
  it('answers /health with the service name', async () => {
    app = createApp({ service: 'test-service', logger, health: () => ({ queue: { pending: 2 } }) });
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', service: 'test-service', queue: { pending: 2 } });
  });

  it('answers /ready 503 naming each failing dependency and why', async () => {
    app = createApp({
      service: 'test-service',
      logger,
      readiness: [
        { name: 'database', check: async () => true },
        {
          name: 'data-service',
          check: async () => {
            throw new Error('data-service unreachable at 127.0.0.1:3004 (ECONNREFUSED)');
          },
        },
        { name: 'slow', check: () => new Promise(() => {}) },
      ],
      readinessTimeoutMs: 100,
    });
    const res = await app.inject({ url: '/ready' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.checks.database.ok).toBe(true);
    expect(body.checks['data-service']).toMatchObject({
      ok: false,
      error: 'data-service unreachable at 127.0.0.1:3004 (ECONNREFUSED)',
    });
    expect(body.checks.slow.error).toBe('no answer within 100 ms');
  });

  it('keeps a valid incoming x-request-id, makes one otherwise, and exposes it to handlers', async () => {
    app = createApp({ service: 'test-service', logger });
    app.get('/id', async () => ({ id: currentRequestId() }));
    const given = await app.inject({ url: '/id', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    expect(given.json()).toEqual({ id: 'abc-123' });
    const made = await app.inject({ url: '/id', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.json().id).toBe(made.headers['x-request-id']);
  });

  it('answers 400 naming each invalid field, and never leaks a 500', async () => {
    app = createApp({ service: 'test-service', logger });
    app.post('/things', async (req) =>
      parseInput(z.strictObject({ email: z.email(), age: z.number().int() }), req.body),
    );
    app.get('/boom', async () => {
      throw new Error('secret connection string postgres://u:p@h/db');
    });
    app.get('/teapot', async () => {
      throw new HttpError(418, 'short and stout', { spout: true });
    });
    app.get('/bad', async () => {
      throw badRequest('nope');
    });

    const bad = await app.inject({
      method: 'POST',
      url: '/things',
      payload: { email: 'x', age: 'old', extra: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().fields).sort()).toEqual(['age', 'email', 'extra']);
    expect(bad.json().message).toContain('email');

    const boom = await app.inject({ url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('postgres');
    expect(boom.json()).toMatchObject({ message: 'internal server error' });

    expect((await app.inject({ url: '/teapot' })).json()).toEqual({
      message: 'short and stout',
      spout: true,
    });
    expect((await app.inject({ url: '/bad' })).statusCode).toBe(400);

    const malformed = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{bad',
    });
    expect(malformed.statusCode).toBe(400);
    expect((await app.inject({ url: '/nowhere' })).json()).toEqual({
      message: 'route GET /nowhere not found',
    });
  });
});
