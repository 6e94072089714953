import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildGateway, startStub, tokens } from './helpers';

interface Call {
  method: string;
  path: string;
  userId?: string;
  requestId?: string;
  body?: unknown;
}

const FORM_ID = '0b5c3f8e-6d1a-4c1e-9a57-3f0e2b7d9c11';
const form = {
  id: FORM_ID,
  ownerId: 'u-owner',
  title: 'Feedback',
  fields: [{ name: 'comment', label: 'Comment', type: 'text', required: true }],
};

// form-service as docs/internal-api.md describes it: it trusts x-user-id and decides ownership.
let calls: Call[] = [];
let formService: Awaited<ReturnType<typeof startStub>>;
let gateway: FastifyInstance;

beforeAll(async () => {
  formService = await startStub((app) => {
    app.addHook('preHandler', async (req) => {
      calls.push({
        method: req.method,
        path: req.url,
        userId: req.headers['x-user-id'] as string | undefined,
        requestId: req.headers['x-request-id'] as string | undefined,
        body: req.body,
      });
    });
    app.post('/forms', async (req, reply) =>
      reply.code(201).send({ ...(req.body as object), id: 'f-new', ownerId: req.headers['x-user-id'] }),
    );
    app.get('/forms', async (req) => (req.headers['x-user-id'] === 'u-owner' ? [form] : []));
    app.get('/forms/:id', async (req, reply) =>
      (req.params as { id: string }).id === FORM_ID
        ? form
        : reply.code(404).send({ message: 'form not found' }),
    );
    app.post('/forms/:id/submissions', async (req, reply) => {
      const { answers } = req.body as { answers: Record<string, unknown> };
      if (!answers.comment)
        return reply.code(400).send({ message: 'invalid answers', fields: { comment: 'is required' } });
      return reply.code(201).send({ id: 's-1' });
    });
    app.get('/forms/:id/submissions', async (req, reply) =>
      req.headers['x-user-id'] === form.ownerId
        ? [{ id: 's-1', answers: { comment: 'hi' } }]
        : reply.code(403).send({ message: 'only the owner of this form may read its submissions' }),
    );
  });
  gateway = await buildGateway({ FORM_SERVICE_URL: formService.url });
});
afterAll(async () => {
  await gateway?.close();
  await formService?.close();
});
beforeEach(() => {
  calls = [];
});

const ownerToken = () => tokens.valid('u-owner');

describe('forms of the signed-in user', () => {
  it('POST /api/forms forwards the form with x-user-id from the token and answers 201', async () => {
    const body = {
      title: 'Feedback',
      fields: [{ name: 'comment', label: 'Comment', type: 'text', required: true }],
    };
    const res = await gateway.inject({
      method: 'POST',
      url: '/api/forms',
      headers: bearer(await ownerToken()),
      payload: body,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: 'f-new', ownerId: 'u-owner', title: 'Feedback' });
    expect(calls).toMatchObject([{ method: 'POST', path: '/forms', userId: 'u-owner', body }]);
  });

  it('GET /api/forms answers the forms form-service lists for the token user', async () => {
    const res = await gateway.inject({
      method: 'GET',
      url: '/api/forms',
      headers: bearer(await ownerToken()),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([form]);
    expect(calls[0]?.userId).toBe('u-owner');
  });

  it.each([
    [{ title: 'T', fields: [{ name: 'a', label: 'A', type: 'date', required: true }] }, 'fields.0.type'],
    [{ title: 'T', fields: [{ name: 'a', label: 'A', type: 'text' }] }, 'fields.0.required'],
    [
      { title: 'T', fields: [{ name: 'a', label: 'A', type: 'text', required: true, extra: 1 }] },
      'fields.0.extra',
    ],
    [{ title: '', fields: [] }, 'title'],
    [{ fields: [] }, 'title'],
    [{ title: 'T', fields: [], ownerId: 'someone-else' }, 'ownerId'],
  ])(
    'POST /api/forms answers 400 naming the bad field of %j, without calling form-service',
    async (body, field) => {
      const res = await gateway.inject({
        method: 'POST',
        url: '/api/forms',
        headers: bearer(await ownerToken()),
        payload: body,
      });
      expect(res.statusCode).toBe(400);
      expect(Object.keys(res.json().fields)).toContain(field);
      expect(calls).toEqual([]);
    },
  );

  const protectedRoutes = [
    ['POST', '/api/forms'],
    ['GET', '/api/forms'],
    ['GET', `/api/forms/${FORM_ID}/submissions`],
  ] as const;
  const badTokens = [
    ['no token', async () => undefined],
    ['an expired token', () => tokens.expired('u-owner')],
    ['a token signed with another secret', () => tokens.wrongSignature('u-owner')],
    ['an unsigned alg:none token', () => tokens.algNone('u-owner')],
    ['a token of another issuer', () => tokens.wrongIssuer('u-owner')],
    ['a token without expiry', () => tokens.noExpiry('u-owner')],
    ['a malformed token', async () => 'abc.def'],
  ] as const;
  for (const [method, url] of protectedRoutes) {
    it.each(badTokens)(
      `${method} ${url} answers 401 {message} for %s, without calling form-service`,
      async (_what, make) => {
        const token = await make();
        const res = await gateway.inject({
          method,
          url,
          headers: token ? bearer(token) : {},
          payload: method === 'POST' ? { title: 'T', fields: [] } : undefined,
        });
        expect(res.statusCode).toBe(401);
        expect(Object.keys(res.json())).toEqual(['message']);
        expect(calls).toEqual([]);
      },
    );
  }
});

describe('public form routes', () => {
  it('GET /api/forms/:id answers the form without a token', async () => {
    const res = await gateway.inject({ method: 'GET', url: `/api/forms/${FORM_ID}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(form);
  });

  it("passes form-service's 404 through, and answers 404 itself for an id that cannot be one", async () => {
    const missing = await gateway.inject({
      method: 'GET',
      url: '/api/forms/00000000-0000-4000-8000-000000000000',
    });
    expect(missing.statusCode).toBe(404);
    expect(calls).toHaveLength(1);
    const odd = await gateway.inject({
      method: 'GET',
      url: `/api/forms/${encodeURIComponent('../users/u-owner')}`,
    });
    expect(odd.statusCode).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('never forwards an x-user-id the client sent', async () => {
    await gateway.inject({
      method: 'GET',
      url: `/api/forms/${FORM_ID}`,
      headers: { 'x-user-id': 'u-owner' },
    });
    const res = await gateway.inject({
      method: 'GET',
      url: `/api/forms/${FORM_ID}/submissions`,
      headers: { ...bearer(await tokens.valid('u-intruder')), 'x-user-id': 'u-owner' },
    });
    expect(res.statusCode).toBe(403);
    expect(calls.map((c) => c.userId)).toEqual([undefined, 'u-intruder']);
  });

  it('POST /api/forms/:id/submissions stores answers without a token and answers 201 {id}', async () => {
    const res = await gateway.inject({
      method: 'POST',
      url: `/api/forms/${FORM_ID}/submissions`,
      payload: { answers: { comment: 'great' } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: 's-1' });
    expect(calls).toMatchObject([{ userId: undefined, body: { answers: { comment: 'great' } } }]);
  });

  it("passes form-service's 400 naming each invalid answer through", async () => {
    const res = await gateway.inject({
      method: 'POST',
      url: `/api/forms/${FORM_ID}/submissions`,
      payload: { answers: { comment: '' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual({ comment: 'is required' });
  });

  it('answers 400 itself for a submission that is not {answers: {...}}', async () => {
    for (const payload of [
      {},
      { answers: 'yes' },
      { answers: { a: { nested: true } } },
      { answers: {}, extra: 1 },
    ]) {
      const res = await gateway.inject({ method: 'POST', url: `/api/forms/${FORM_ID}/submissions`, payload });
      expect(res.statusCode).toBe(400);
    }
    expect(calls).toEqual([]);
  });
});

describe('submissions of a form', () => {
  it('answers them to the owner', async () => {
    const res = await gateway.inject({
      method: 'GET',
      url: `/api/forms/${FORM_ID}/submissions`,
      headers: bearer(await ownerToken()),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([{ id: 's-1', answers: { comment: 'hi' } }]);
  });

  it('answers 403 to another signed-in user', async () => {
    const res = await gateway.inject({
      method: 'GET',
      url: `/api/forms/${FORM_ID}/submissions`,
      headers: bearer(await tokens.valid('u-other')),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toContain('only the owner');
  });
});

describe('request ids over real HTTP', () => {
  let url: string;
  beforeAll(async () => {
    await gateway.listen({ port: 0, host: '127.0.0.1' });
    const address = gateway.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  it('forwards the x-request-id the client sent, on a GET and on a POST with a body', async () => {
    await fetch(`${url}/api/forms/${FORM_ID}`, { headers: { 'x-request-id': 'trace-get-1' } });
    await fetch(`${url}/api/forms/${FORM_ID}/submissions`, {
      method: 'POST',
      headers: { 'x-request-id': 'trace-post-1', 'content-type': 'application/json' },
      body: JSON.stringify({ answers: { comment: 'hello' } }),
    });
    expect(calls.map((c) => c.requestId)).toEqual(['trace-get-1', 'trace-post-1']);
  });

  it('generates one when the client sent none, answers it, and forwards the same', async () => {
    const res = await fetch(`${url}/api/forms/${FORM_ID}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ answers: { comment: 'hello' } }),
    });
    const given = res.headers.get('x-request-id');
    expect(given).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls.map((c) => c.requestId)).toEqual([given]);
  });
});
