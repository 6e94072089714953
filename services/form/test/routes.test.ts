import { createLogger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { startFakeDataService } from './fake-data-service';

const logger = createLogger({ service: 'form-service', level: 'silent' });
const OWNER = '11111111-1111-4111-8111-111111111111';
const STRANGER = '22222222-2222-4222-8222-222222222222';

const contactForm = {
  title: 'Contact us',
  fields: [
    { name: 'name', label: 'Your name', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: true },
    { name: 'age', label: 'Age', type: 'number', required: false },
    { name: 'topic', label: 'Topic', type: 'choice', required: true, options: ['sales', 'support'] },
  ],
};

let data: Awaited<ReturnType<typeof startFakeDataService>>;
let app: FastifyInstance;

beforeAll(async () => {
  data = await startFakeDataService();
  app = buildApp({ config: { DATA_SERVICE_URL: data.url, UPSTREAM_TIMEOUT_MS: 2000 }, logger });
});
afterAll(async () => {
  await app.close();
  await data.close();
});

async function createForm(body: unknown = contactForm, userId = OWNER) {
  return app.inject({
    method: 'POST',
    url: '/forms',
    headers: { 'x-user-id': userId },
    payload: body as object,
  });
}

describe('forms', () => {
  it('refuses owner routes without x-user-id with 401', async () => {
    const created = await app.inject({ method: 'POST', url: '/forms', payload: contactForm });
    expect(created.statusCode).toBe(401);
    expect(created.json().message).toMatch(/x-user-id/);
    expect((await app.inject({ method: 'GET', url: '/forms' })).statusCode).toBe(401);
  });

  it('creates a form owned by the caller and lists only the caller’s forms', async () => {
    const created = await createForm();
    expect(created.statusCode).toBe(201);
    const form = created.json();
    expect(form).toMatchObject({ ownerId: OWNER, title: 'Contact us' });
    expect(form.fields[0]).toEqual({ name: 'name', label: 'Your name', type: 'text', required: true });
    await createForm({ ...contactForm, title: 'Someone else’s' }, STRANGER);

    const listed = await app.inject({ method: 'GET', url: '/forms', headers: { 'x-user-id': OWNER } });
    expect(listed.statusCode).toBe(200);
    const forms = listed.json();
    expect(Array.isArray(forms)).toBe(true);
    expect(forms.map((f: { title: string }) => f.title)).toContain('Contact us');
    expect(forms.every((f: { ownerId: string }) => f.ownerId === OWNER)).toBe(true);
  });

  it('names each bad field of a form definition', async () => {
    const res = await createForm({
      title: '',
      fields: [
        { name: 'ok', label: 'OK', type: 'text', required: false },
        { name: 'ok', label: 'Again', type: 'text', required: false },
        { name: '1st place', label: 'Bad name', type: 'text', required: false },
        { name: 'pick', label: 'Pick', type: 'choice', required: true },
        { name: 'empty', label: 'Empty', type: 'choice', required: true, options: [] },
        { name: 'extra', label: 'Extra', type: 'number', required: false, options: ['1'] },
        { name: 'when', label: 'When', type: 'date', required: false },
      ],
    });
    expect(res.statusCode).toBe(400);
    const { fields } = res.json();
    expect(Object.keys(fields).sort()).toEqual(
      [
        'title',
        'fields.2.name',
        'fields.3.options',
        'fields.4.options',
        'fields.5.options',
        'fields.6.type',
      ].sort(),
    );
    expect(data.forms.some((f) => f.title === '')).toBe(false);
  });

  it('refuses a title of more than one line, since it becomes an email subject', async () => {
    const res = await createForm({ ...contactForm, title: 'Contact\nBcc: everyone@example.com' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual({ title: 'must be one line' });
  });

  it('reports duplicate field names once the fields themselves are valid', async () => {
    const res = await createForm({
      title: 'Dup',
      fields: [
        { name: 'a', label: 'A', type: 'text', required: false },
        { name: 'a', label: 'A again', type: 'email', required: false },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual({ 'fields.1.name': 'duplicate field name "a"' });
  });

  it('reads one form publicly, and answers 404 for unknown or malformed ids', async () => {
    const form = (await createForm()).json();
    const read = await app.inject({ method: 'GET', url: `/forms/${form.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.json().id).toBe(form.id);
    expect(
      (await app.inject({ method: 'GET', url: '/forms/33333333-3333-4333-8333-333333333333' })).statusCode,
    ).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/forms/not-a-uuid' })).statusCode).toBe(404);
  });
});

describe('submissions', () => {
  it('stores valid answers and hands data-service the confirmation job with a submission key', async () => {
    const form = (await createForm()).json();
    const res = await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: { answers: { name: 'Ada', email: ' ada@example.com ', age: '36', topic: 'support' } },
    });
    expect(res.statusCode).toBe(201);
    const { id } = res.json();
    const stored = data.submissions.find((s) => s.id === id);
    expect(stored?.answers).toEqual({ name: 'Ada', email: 'ada@example.com', age: 36, topic: 'support' });
    const job = data.jobs.at(-1);
    expect(job?.type).toBe('send-confirmation-email');
    expect(job?.payload).toMatchObject({ formId: form.id });
    expect(job?.idempotencyKey).toMatch(
      /^submission:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('gives every submission its own idempotency key', async () => {
    const form = (await createForm()).json();
    const answers = { name: 'Bo', email: 'bo@example.com', topic: 'sales' };
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'POST',
        url: `/forms/${form.id}/submissions`,
        payload: { answers },
      });
      expect(res.statusCode).toBe(201);
    }
    const keys = data.jobs.filter((j) => j.payload.formId === form.id).map((j) => j.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
  });

  it('answers 400 naming each invalid field, and stores nothing', async () => {
    const form = (await createForm()).json();
    const before = data.submissions.length;
    const res = await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: {
        answers: { name: 42, email: 'not-an-email', age: '12 years', topic: 'billing', nickname: 'x' },
      },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.fields).toEqual({
      name: 'must be text',
      email: 'must be an email address',
      age: 'must be a number',
      topic: 'must be one of: sales, support',
      nickname: 'unknown field: this form has no such field',
    });
    expect(body.message).toMatch(/^invalid answers: /);
    expect(data.submissions.length).toBe(before);
  });

  it('reports missing required answers, including blank strings', async () => {
    const form = (await createForm()).json();
    const res = await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: { answers: { name: '   ' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual({ name: 'is required', email: 'is required', topic: 'is required' });
  });

  it('answers 400 naming an unknown field next to answers, like every body of the stack', async () => {
    const form = (await createForm()).json();
    const res = await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: { answers: { name: 'Ed', email: 'ed@example.com', topic: 'sales' }, formId: 'other' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual({ formId: 'unknown field' });
  });

  it('answers 400 when answers is not an object, and 404 for an unknown form', async () => {
    const form = (await createForm()).json();
    const bad = await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: { answers: [] },
    });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().fields)).toEqual(['answers']);
    const missing = await app.inject({
      method: 'POST',
      url: '/forms/44444444-4444-4444-8444-444444444444/submissions',
      payload: { answers: {} },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('lists submissions to the owner only: 401 anonymous, 403 another user', async () => {
    const form = (await createForm()).json();
    await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: { answers: { name: 'Cy', email: 'cy@example.com', topic: 'sales' } },
    });
    const url = `/forms/${form.id}/submissions`;
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
    const stranger = await app.inject({ method: 'GET', url, headers: { 'x-user-id': STRANGER } });
    expect(stranger.statusCode).toBe(403);
    const owner = await app.inject({ method: 'GET', url, headers: { 'x-user-id': OWNER } });
    expect(owner.statusCode).toBe(200);
    expect(owner.json()).toEqual([expect.objectContaining({ formId: form.id, answers: expect.any(Object) })]);
  });
});

describe('when data-service is down', () => {
  it('answers 502 naming data-service, and /ready says not ready', async () => {
    const down = await startFakeDataService();
    await down.close();
    const offline = buildApp({ config: { DATA_SERVICE_URL: down.url, UPSTREAM_TIMEOUT_MS: 2000 }, logger });
    try {
      const res = await offline.inject({ method: 'GET', url: '/forms', headers: { 'x-user-id': OWNER } });
      expect(res.statusCode).toBe(502);
      expect(res.json().message).toMatch(/data-service unreachable/);
      const ready = await offline.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks['data-service'].ok).toBe(false);
    } finally {
      await offline.close();
    }
  });

  it('reports ready when data-service answers', async () => {
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
  });
});
