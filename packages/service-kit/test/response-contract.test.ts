// A route's response schema is its contract: an answer that breaks it (a renamed field, a wrong type)
// is a 500 logged at error by the service that broke it, naming the route and each field, with the
// route's declaration as the stack (what devctl diagnose reads as `where:`).
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../src/app';
import { createLogger } from '../src/logger';

const THIS_FILE = fileURLToPath(import.meta.url);

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'test-service',
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

const form = z.strictObject({ id: z.string(), title: z.string(), createdAt: z.iso.datetime() });
const listSchema = { response: { 200: z.strictObject({ forms: z.array(form) }) } };

let app: ReturnType<typeof createApp>;
afterEach(() => app?.close());

describe('response schemas', () => {
  it('answers a body that matches the schema as the handler returned it', async () => {
    const { logger, lines } = captureLogger();
    app = createApp({ service: 'test-service', logger });
    const forms = [{ id: 'f1', title: 'Contact', createdAt: '2030-01-01T00:00:00.000Z' }];
    app.get('/forms', { schema: listSchema }, async () => ({ forms }));
    const res = await app.inject({ url: '/forms' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ forms });
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([]);
  });

  it('answers 500 and logs the route and the fields when a field is renamed', async () => {
    const { logger, lines } = captureLogger();
    app = createApp({ service: 'test-service', logger });
    // biome-ignore lint/suspicious/noExplicitAny: the drift under test is a body the types would refuse
    app.get('/forms', { schema: listSchema }, async () => ({ items: [] }) as any);
    const res = await app.inject({ url: '/forms', headers: { 'x-request-id': 'drift-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      message: 'test-service answered GET /forms with a body that breaks its response schema',
      requestId: 'drift-1',
    });
    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    // biome-ignore lint/suspicious/noExplicitAny: the assertions read the logged record field by field
    const [logged] = errors as [Record<string, any>];
    expect(logged.msg).toBe(
      'test-service GET /forms answered 200 with a body that breaks its response schema: ' +
        'forms: Invalid input: expected array, received undefined; items: unknown field',
    );
    expect(logged).toMatchObject({
      reqId: 'drift-1',
      method: 'GET',
      url: '/forms',
      route: 'GET /forms',
      mismatches: [
        { field: 'forms', problem: 'Invalid input: expected array, received undefined' },
        { field: 'items', problem: 'unknown field' },
      ],
      err: { type: 'ResponseContractError' },
    });
    // The stack is the route's declaration: this file, where `app.get('/forms', ...)` is.
    expect(logged.err.stack.split('\n')[0]).toBe(`ResponseContractError: ${logged.err.message}`);
    expect(logged.err.stack).toContain(`${THIS_FILE}:`);
  });

  it('names a field of the wrong type inside a list, and the status the handler meant', async () => {
    const { logger, lines } = captureLogger();
    app = createApp({ service: 'test-service', logger });
    app.post('/forms', { schema: { response: { 201: form } } }, async (_req, reply) => {
      reply.code(201);
      // biome-ignore lint/suspicious/noExplicitAny: the drift under test is a body the types would refuse
      return { id: 'f1', title: 'Contact', createdAt: 1_900_000_000_000 } as any;
    });
    const res = await app.inject({ method: 'POST', url: '/forms' });
    expect(res.statusCode).toBe(500);
    const logged = lines.find((line) => line.level === 50);
    expect(logged?.msg).toBe(
      'test-service POST /forms answered 201 with a body that breaks its response schema: ' +
        'createdAt: Invalid input: expected string, received number',
    );
  });

  it('validates input with the route schema and answers the same 400 as parseInput', async () => {
    const { logger } = captureLogger();
    app = createApp({ service: 'test-service', logger });
    app.post(
      '/items/:id',
      {
        schema: {
          params: z.strictObject({ id: z.string().min(3) }),
          body: z.strictObject({ title: z.string().trim().min(1) }),
        },
      },
      async (req) => ({ id: req.params.id, title: req.body.title }),
    );
    const good = await app.inject({ method: 'POST', url: '/items/abc', payload: { title: ' T ' } });
    expect(good.json()).toEqual({ id: 'abc', title: 'T' });
    const badPath = await app.inject({ method: 'POST', url: '/items/a', payload: { title: 'T' } });
    expect(badPath.statusCode).toBe(400);
    expect(badPath.json()).toEqual({
      message: 'invalid path: id: Too small: expected string to have >=3 characters',
      fields: { id: 'Too small: expected string to have >=3 characters' },
    });
    // A request without a body and a JSON `null` body are told apart, as parseInput always did.
    const noBody = await app.inject({ method: 'POST', url: '/items/abc' });
    expect(noBody.json().message).toBe(
      'invalid request body: (body): Invalid input: expected object, received undefined',
    );
    const nullBody = await app.inject({
      method: 'POST',
      url: '/items/abc',
      payload: 'null',
      headers: { 'content-type': 'application/json' },
    });
    expect(nullBody.json().message).toBe(
      'invalid request body: (body): Invalid input: expected object, received null',
    );
    const badBody = await app.inject({ method: 'POST', url: '/items/abc', payload: { title: '', x: 1 } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json()).toEqual({
      message:
        'invalid request body: title: Too small: expected string to have >=1 characters; x: unknown field',
      fields: { title: 'Too small: expected string to have >=1 characters', x: 'unknown field' },
    });
  });
});

describe('an answer with no body where the route declares one', () => {
  it('answers 500 and logs the route, instead of an empty 200', async () => {
    const { logger, lines } = captureLogger();
    app = createApp({ service: 'test-service', logger });
    const upstream = { forms: undefined as unknown };
    app.get('/forms', { schema: { response: { 200: z.array(form) } } }, async () => upstream.forms as never);
    const res = await app.inject({ url: '/forms' });
    expect(res.statusCode).toBe(500);
    expect(res.json().message).toBe(
      'test-service answered GET /forms with a body that breaks its response schema',
    );
    expect(lines.find((line) => line.level === 50)?.msg).toBe(
      'test-service GET /forms answered 200 with a body that breaks its response schema: ' +
        '(body): Invalid input: expected array, received undefined',
    );
  });

  it('leaves a 204 and a route without a response schema alone', async () => {
    const { logger, lines } = captureLogger();
    app = createApp({ service: 'test-service', logger });
    app.delete(
      '/forms/:id',
      { schema: { response: { 200: form, 204: z.undefined() } } },
      async (_req, reply) => {
        reply.code(204).send();
      },
    );
    app.get('/free', async () => undefined);
    expect((await app.inject({ method: 'DELETE', url: '/forms/1' })).statusCode).toBe(204);
    expect((await app.inject({ url: '/free' })).statusCode).toBe(200);
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([]);
  });
});
