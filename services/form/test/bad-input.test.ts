import { createLogger } from '@repo/service-kit';
import { startRealDataService } from '@repo/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';

let dataService: Awaited<ReturnType<typeof startRealDataService>>;
let dataUrl = '';
let app: FastifyInstance;
let ownerId = '';
let formId = '';

const contactForm = {
  title: 'Contact us',
  fields: [
    { name: 'name', label: 'Your name', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: true },
    { name: 'age', label: 'Age', type: 'number', required: false },
    { name: 'topic', label: 'Topic', type: 'choice', required: true, options: ['sales', 'support'] },
  ],
};
const goodAnswers = { name: 'Ada', email: 'ada@example.com', age: 36, topic: 'sales' };

async function dataGet<T>(path: string): Promise<T> {
  const res = await fetch(`${dataUrl}${path}`);
  if (!res.ok) throw new Error(`data-service GET ${path} -> ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** What data-service holds for the form under test: its submissions and their email jobs. */
async function stored() {
  const { submissions } = await dataGet<{ submissions: unknown[] }>(`/forms/${formId}/submissions`);
  const { jobs } = await dataGet<{ jobs: { payload: { formId?: string } }[] }>('/jobs?limit=1000');
  return { submissions: submissions.length, jobs: jobs.filter((j) => j.payload.formId === formId).length };
}

/** Forms of the owner whose title is not one the tests below created on purpose. */
async function unexpectedForms(): Promise<string[]> {
  const { forms } = await dataGet<{ forms: { title: string }[] }>(`/forms?ownerId=${ownerId}`);
  return forms.map((f) => f.title).filter((title) => title !== contactForm.title);
}

beforeAll(async () => {
  dataService = await startRealDataService();
  dataUrl = dataService.url;
  app = buildApp({
    config: { DATA_SERVICE_URL: dataUrl, UPSTREAM_TIMEOUT_MS: 5000 },
    logger: createLogger({ service: 'form-service', level: 'silent' }),
  });
  const user = await fetch(`${dataUrl}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'owner@example.com', passwordHash: 'scrypt$x' }),
  });
  ownerId = ((await user.json()) as { id: string }).id;
  const form = await app.inject({
    method: 'POST',
    url: '/forms',
    headers: { 'x-user-id': ownerId },
    payload: contactForm,
  });
  expect(form.statusCode, form.body).toBe(201);
  formId = form.json().id;
  expect(await stored()).toEqual({ submissions: 0, jobs: 0 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await dataService?.stop();
});

async function send(
  method: 'GET' | 'POST',
  url: string,
  payload?: string | object,
  headers: Record<string, string> = {},
) {
  const res = await app.inject({
    method,
    url,
    headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(payload === undefined
      ? {}
      : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
  let body: { message?: string; fields?: Record<string, string> } = {};
  try {
    body = res.json();
  } catch {
    // every answer must be JSON: the assertion below says so
  }
  return {
    status: res.statusCode,
    body,
    raw: res.body,
    describe: `${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
  };
}

function expectClearRefusal(res: Awaited<ReturnType<typeof send>>, status?: number) {
  if (status !== undefined) expect(res.status, res.describe).toBe(status);
  expect(res.status, res.describe).toBeGreaterThanOrEqual(400);
  expect(res.status, res.describe).toBeLessThan(500);
  expect(res.body.message, res.describe).toEqual(expect.any(String));
  expect(res.body.message?.length, res.describe).toBeGreaterThan(5);
}

const asOwner = () => ({ 'x-user-id': ownerId });
const submit = (body: string | object) => send('POST', `/forms/${formId}/submissions`, body);
const createForm = (body: string | object) => send('POST', '/forms', body, asOwner());

describe('form-service refuses bad input with a 4xx that says why', () => {
  it('malformed JSON and non-object bodies: 400', async () => {
    for (const body of ['{"answers":', '{answers: {}}', '{"answers":{}}}', 'null', '[]', '"x"', '7']) {
      const submission = await submit(body);
      expectClearRefusal(submission, 400);
      expectClearRefusal(await createForm(body), 400);
    }
    expect((await submit('{"answers":')).body.message).toMatch(/JSON/i);
  });

  it('answers of the wrong type: 400 naming each field', async () => {
    const res = await submit({ answers: { name: 42, email: 'not an email', age: 'old', topic: 'gossip' } });
    expectClearRefusal(res, 400);
    expect(Object.keys(res.body.fields ?? {}).sort()).toEqual(['age', 'email', 'name', 'topic']);
    expect(res.body.fields?.topic).toMatch(/one of: sales, support/);
    const notObject = await submit({ answers: ['Ada'] });
    expectClearRefusal(notObject, 400);
    expect(notObject.body.fields?.answers).toEqual(expect.any(String));
  });

  it('missing required answers and unknown answer names: 400 naming them', async () => {
    const res = await submit({ answers: { nickname: 'x', __proto__x: 1 } });
    expectClearRefusal(res, 400);
    expect(res.body.fields).toMatchObject({
      name: 'is required',
      email: 'is required',
      topic: 'is required',
    });
    expect(res.body.fields?.nickname).toMatch(/unknown field/);
  });

  // KNOWN BUG (reported): the submission body is `z.object`, not `z.strictObject` as every other
  // body of the stack, so an unknown top-level field is dropped silently and the submission is
  // stored (201). The gateway refuses it (its schema is strict), so only direct calls are affected.
  it('an unknown top-level field next to answers: 400 naming it', async () => {
    const other = await createForm(contactForm);
    const res = await send('POST', `/forms/${(other.body as { id: string }).id}/submissions`, {
      answers: goodAnswers,
      formId: 'other',
    });
    expectClearRefusal(res, 400);
    expect(res.body.fields?.formId).toBe('unknown field');
  });

  it('__proto__ and constructor keys in answers are refused, never merged', async () => {
    const proto = await submit(
      '{"answers":{"name":"a","email":"a@b.co","topic":"sales","__proto__":{"admin":true}}}',
    );
    expectClearRefusal(proto, 400);
    const ctor = await submit({ answers: { ...goodAnswers, constructor: 'x' } });
    expectClearRefusal(ctor, 400);
    expect(ctor.body.fields?.constructor).toMatch(/unknown field/);
  });

  it('numbers that are not decimal (hex, Infinity, NaN, empty): 400 for the field', async () => {
    for (const age of ['0x1f', 'Infinity', 'NaN', '1e999', '--1', '1,5']) {
      const res = await submit({ answers: { ...goodAnswers, age } });
      expectClearRefusal(res, 400);
      expect(res.body.fields?.age, `${age}: ${res.describe}`).toMatch(/number/);
    }
  });

  it('an oversized body (over the 256 KiB limit): 413', async () => {
    expectClearRefusal(await submit({ answers: { ...goodAnswers, name: 'n'.repeat(300 * 1024) } }), 413);
    expectClearRefusal(await createForm({ ...contactForm, title: 't'.repeat(300 * 1024) }), 413);
  });

  it('very long strings inside the limit: 400 naming the field', async () => {
    const res = await submit({ answers: { ...goodAnswers, name: 'n'.repeat(20_000) } });
    expectClearRefusal(res, 400);
    expect(res.body.fields?.name).toMatch(/at most 10000/);
    const title = await createForm({ ...contactForm, title: 't'.repeat(5000) });
    expectClearRefusal(title, 400);
    expect(title.body.fields?.title).toEqual(expect.any(String));
    const fieldName = await createForm({
      title: 'T',
      fields: [{ name: 'f'.repeat(500), label: 'L', type: 'text' }],
    });
    expectClearRefusal(fieldName, 400);
  });

  it('bad form definitions: 400 naming the field', async () => {
    const cases: [object, string][] = [
      [{ title: 'T', fields: [] }, 'fields'],
      [{ title: '', fields: contactForm.fields }, 'title'],
      [{ title: 'Line\r\nBcc: x@example.com', fields: contactForm.fields }, 'title'],
      [{ title: 'T', fields: [{ name: 'a b', label: 'L', type: 'text' }] }, 'fields.0.name'],
      [{ title: 'T', fields: [{ name: '../etc', label: 'L', type: 'text' }] }, 'fields.0.name'],
      [{ title: 'T', fields: [{ name: 'a', label: 'L', type: 'file' }] }, 'fields.0.type'],
      [{ title: 'T', fields: [{ name: 'a', label: 'L', type: 'choice' }] }, 'fields.0.options'],
      [
        { title: 'T', fields: [{ name: 'a', label: 'L', type: 'text', script: '<script>' }] },
        'fields.0.script',
      ],
      [{ title: 'T', fields: contactForm.fields, ownerId: 'someone-else' }, 'ownerId'],
    ];
    for (const [body, field] of cases) {
      const res = await createForm(body);
      expectClearRefusal(res, 400);
      expect(res.body.fields?.[field], res.describe).toEqual(expect.any(String));
    }
  });

  it('owner routes without a usable x-user-id: 401', async () => {
    expectClearRefusal(await send('POST', '/forms', contactForm), 401);
    expectClearRefusal(await send('GET', '/forms'), 401);
    expectClearRefusal(await send('GET', '/forms', undefined, { 'x-user-id': 'u'.repeat(500) }), 401);
    expectClearRefusal(
      await send('GET', `/forms/${formId}/submissions`, undefined, { 'x-user-id': '  ' }),
      401,
    );
  });

  it('SQL injection and path traversal as form ids: 404 without touching data-service state', async () => {
    const ids = [
      "' OR '1'='1",
      '1; DROP TABLE forms',
      '../../../etc/passwd',
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f',
      'a'.repeat(500),
    ];
    for (const id of ids) {
      const encoded = encodeURIComponent(id);
      const read = await send('GET', `/forms/${encoded}`);
      // 414 from Fastify for a path parameter over 100 characters, 404 for the others.
      expectClearRefusal(read);
      expect(read.raw).not.toMatch(/root:/);
      expectClearRefusal(await send('POST', `/forms/${encoded}/submissions`, { answers: goodAnswers }));
      expectClearRefusal(await send('GET', `/forms/${encoded}/submissions`, undefined, asOwner()));
    }
  });

  it('SQL injection inside answers is stored verbatim, as data', async () => {
    const name = "Robert'); DROP TABLE submissions; --";
    const res = await submit({ answers: { ...goodAnswers, name } });
    expect(res.status, res.describe).toBe(201);
    const listed = await send('GET', `/forms/${formId}/submissions`, undefined, asOwner());
    expect(listed.status, listed.describe).toBe(200);
    const submissions = JSON.parse(listed.raw) as { answers: { name: string } }[];
    expect(submissions.map((s) => s.answers.name)).toEqual([name]);
  });

  it('after all of it only the one valid submission (and its job) was stored, and both services answer', async () => {
    expect(await stored()).toEqual({ submissions: 1, jobs: 1 });
    expect(await unexpectedForms()).toEqual([]);
    expect((await send('GET', '/health')).status).toBe(200);
    expect((await send('GET', '/ready')).status).toBe(200);
  });
});
