// form-service's answers are the public API the gateway passes on (docs/internal-api.md). When one
// would break that contract -- a form without its title, the `undefined` that a renamed field of an
// upstream answer turns into -- form-service answers 500 and logs, at error, the route and the field,
// instead of an empty 200 that nobody logs. The real app against a real HTTP upstream that plays a
// data-service whose answers have drifted (one with no response schemas of its own).
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@repo/service-kit';
import { type Stub, startStub } from '@repo/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';

const FORMS_ROUTES = fileURLToPath(new URL('../src/routes/forms.ts', import.meta.url));
const OWNER = randomUUID();
const FORM = {
  id: randomUUID(),
  ownerId: OWNER,
  title: 'Contact',
  fields: [{ name: 'name', label: 'Name', type: 'text', required: true }],
  createdAt: '2030-01-01T00:00:00.000Z',
};

let upstream: Stub;
let app: FastifyInstance;
let lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  upstream = await startStub((data) => {
    // GET /forms renamed its list; GET /forms/:id lost the title; submissions renamed the id.
    data.get('/forms', async () => ({ items: [FORM] }));
    data.get('/forms/:id', async () => ({ ...FORM, title: undefined, name: FORM.title }));
    data.post('/forms/:id/submissions', async (_req, reply) => {
      reply.code(201);
      return { submissionId: randomUUID(), formId: FORM.id, answers: {}, createdAt: FORM.createdAt };
    });
  });
  app = buildApp({
    config: { DATA_SERVICE_URL: upstream.url, UPSTREAM_TIMEOUT_MS: 5000 },
    logger: createLogger({
      service: 'form-service',
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    }),
  });
});
afterAll(async () => {
  await app?.close();
  await upstream?.close();
});
beforeEach(() => {
  lines = [];
});

// biome-ignore lint/suspicious/noExplicitAny: the assertions read the logged record field by field
const errors = () => lines.filter((line) => line.level === 50) as Record<string, any>[];

describe('form-service answers that would break its contract', () => {
  it('GET /forms with nothing to list (the renamed list upstream): 500 naming the route, not an empty 200', async () => {
    const res = await app.inject({ url: '/forms', headers: { 'x-user-id': OWNER, 'x-request-id': 'r-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      message: 'form-service answered GET /forms with a body that breaks its response schema',
      requestId: 'r-1',
    });
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({
      service: 'form-service',
      route: 'GET /forms',
      msg:
        'form-service GET /forms answered 200 with a body that breaks its response schema: ' +
        '(body): Invalid input: expected array, received undefined',
    });
    expect(errors()[0]?.err.stack).toContain(`${FORMS_ROUTES}:`);
  });

  it('GET /forms/:id without a title: 500 naming title', async () => {
    const res = await app.inject({ url: `/forms/${FORM.id}` });
    expect(res.statusCode).toBe(500);
    expect(errors()[0]?.mismatches).toEqual([
      { field: 'title', problem: 'Invalid input: expected string, received undefined' },
    ]);
  });

  it('POST /forms/:id/submissions whose stored id is missing: 500 naming id', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/forms/${FORM.id}/submissions`,
      payload: { answers: { name: 'Ada' } },
    });
    // The form read first has lost its title too, but the submission route answers only the new id.
    expect(res.statusCode).toBe(500);
    expect(errors().map((line) => line.route)).toEqual(['POST /forms/:id/submissions']);
    expect(errors()[0]?.mismatches).toEqual([
      { field: 'id', problem: 'Invalid input: expected string, received undefined' },
    ]);
  });
});
