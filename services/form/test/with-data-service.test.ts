import { createLogger } from '@repo/service-kit';
import { startRealDataService } from '@repo/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';

// form-service in front of the real data-service process (embedded database in a temp folder).
let data: Awaited<ReturnType<typeof startRealDataService>>;
let app: FastifyInstance;
let ownerId: string;

async function dataCall<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${data.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  data = await startRealDataService();
  app = buildApp({
    config: { DATA_SERVICE_URL: data.url, UPSTREAM_TIMEOUT_MS: 5000 },
    logger: createLogger({ service: 'form-service', level: 'silent' }),
  });
  const user = await dataCall<{ id: string }>('POST', '/users', {
    email: 'owner@example.com',
    passwordHash: 'x',
  });
  ownerId = user.body.id;
}, 90_000);
afterAll(async () => {
  await app?.close();
  await data?.stop();
});

describe('form-service + real data-service', () => {
  it('stores a submission and its confirmation job in one call, keyed submission:<uuid>', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/forms',
      headers: { 'x-user-id': ownerId },
      payload: {
        title: 'Real feedback',
        fields: [
          { name: 'name', label: 'Name', type: 'text', required: true },
          { name: 'score', label: 'Score', type: 'number', required: true },
        ],
      },
    });
    expect(created.statusCode).toBe(201);
    const form = created.json();

    const submitted = await app.inject({
      method: 'POST',
      url: `/forms/${form.id}/submissions`,
      payload: { answers: { name: 'Ada', score: '9' } },
    });
    expect(submitted.statusCode).toBe(201);
    const { id } = submitted.json();

    const { body } = await dataCall<{
      jobs: { type: string; idempotencyKey: string; payload: Record<string, unknown> }[];
    }>('GET', '/jobs?type=send-confirmation-email');
    const job = body.jobs.find((j) => j.payload.submissionId === id);
    expect(job?.idempotencyKey).toMatch(/^submission:[0-9a-f-]{36}$/);
    expect(job?.payload).toEqual({ formId: form.id, submissionId: id, answers: { name: 'Ada', score: 9 } });

    const listed = await app.inject({
      method: 'GET',
      url: `/forms/${form.id}/submissions`,
      headers: { 'x-user-id': ownerId },
    });
    expect(listed.json()).toEqual([expect.objectContaining({ id, answers: { name: 'Ada', score: 9 } })]);
  });

  it('passes on data-service’s 400 when the owner does not exist', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/forms',
      headers: { 'x-user-id': '00000000-0000-7000-8000-000000000000' },
      payload: { title: 'Orphan', fields: [{ name: 'a', label: 'A', type: 'text', required: false }] },
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json().fields)).toEqual(['ownerId']);
  });

  it('answers 404 for a form id data-service does not know', async () => {
    const res = await app.inject({ method: 'GET', url: '/forms/00000000-0000-7000-8000-000000000000' });
    expect(res.statusCode).toBe(404);
  });

  it('is ready while data-service answers', async () => {
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});
