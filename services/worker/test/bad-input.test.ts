// worker-service's input is the job queue: a malformed or hostile job must fail with a reason
// (its lastError, then `dead`), send no email, and leave the worker polling. Its HTTP surface is
// read-only: anything else is a 4xx. Against the real data-service (its own process, from source,
// over a throwaway SQLite file); email-service is a real server that records every call it gets.
import type { AddressInfo } from 'node:net';
import { createLogger } from '@repo/service-kit';
import { startRealDataService } from '@repo/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import type { Job } from '../src/types';

let dataService: Awaited<ReturnType<typeof startRealDataService>>;
let dataUrl = '';
let emailStub: FastifyInstance;
const emailCalls: unknown[] = [];
let worker: ReturnType<typeof buildApp>;

async function dataCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${dataUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`data-service ${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

beforeAll(async () => {
  dataService = await startRealDataService();
  dataUrl = dataService.url;
  emailStub = Fastify();
  emailStub.get('/health', async () => ({ status: 'ok' }));
  emailStub.post('/send', async (req) => {
    emailCalls.push(req.body);
    return { messageId: '<x@test>', transport: 'outbox', duplicate: false };
  });
  await emailStub.listen({ port: 0, host: '127.0.0.1' });
  worker = buildApp({
    config: configSchema.parse({
      DATA_SERVICE_URL: dataUrl,
      EMAIL_SERVICE_URL: `http://127.0.0.1:${(emailStub.server.address() as AddressInfo).port}`,
      WORKER_POLL_INTERVAL_MS: '50',
    }),
    logger: createLogger({ service: 'worker-service', level: 'silent' }),
  });
  await worker.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await emailStub?.close();
  await dataService?.stop();
});

/** Polls data-service until every given job is dead (single attempt each), at most 30 s. */
async function waitUntilDead(ids: string[]): Promise<Job[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => dataCall<Job>('GET', `/jobs/${id}`)));
    if (jobs.every((j) => j.status === 'dead') || Date.now() > deadline) return jobs;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('worker-service and hostile jobs', () => {
  it('a malformed or hostile job fails with a reason, goes dead, and sends no email', async () => {
    const hostile: [string, Record<string, unknown>, RegExp][] = [
      ['no payload fields', {}, /malformed payload: formId/],
      ['wrong types', { formId: 42, answers: 'all' }, /malformed payload/],
      ['SQL injection as form id', { formId: "' OR '1'='1", answers: {} }, /not found|404/],
      ['path traversal as form id', { formId: '../../../etc/passwd', answers: {} }, /not found|404/],
      // data-service's 414 names the whole path first, and lastError keeps 2000 characters of it.
      ['very long form id', { formId: 'f'.repeat(5000), answers: {} }, /^'\/forms\/f+/],
    ];
    const created = [];
    for (const [what, payload] of hostile) {
      const job = await dataCall<Job>('POST', '/jobs', {
        type: 'send-confirmation-email',
        payload,
        idempotencyKey: `bad-input:${what}`,
        maxAttempts: 1,
      });
      created.push(job.id);
    }
    const unknownType = await dataCall<Job>('POST', '/jobs', {
      type: 'send-digest-email',
      payload: { ownerId: 'x', email: 'not an address', date: '', since: '', forms: 'many' },
      idempotencyKey: 'bad-input:digest',
      maxAttempts: 1,
    });
    const jobs = await waitUntilDead([...created, unknownType.id]);
    hostile.forEach(([what, , reason], i) => {
      const job = jobs[i] as Job;
      expect(job.status, `${what}: ${JSON.stringify(job)}`).toBe('dead');
      expect(job.lastError, what).toMatch(reason);
    });
    expect(jobs.at(-1)?.status).toBe('dead');
    expect(jobs.at(-1)?.lastError).toMatch(/malformed payload/);
    expect(emailCalls).toEqual([]);
  });

  it('keeps polling afterwards, reports its failures, and still sends for a valid job', async () => {
    const owner = await dataCall<{ id: string }>('POST', '/users', {
      email: 'owner@example.com',
      passwordHash: 'x',
    });
    const form = await dataCall<{ id: string }>('POST', '/forms', {
      ownerId: owner.id,
      title: 'Contact',
      fields: [{ name: 'name', label: 'Name', type: 'text', required: true }],
    });
    await dataCall('POST', `/forms/${form.id}/submissions`, {
      answers: { name: 'Ada' },
      job: {
        type: 'send-confirmation-email',
        payload: { formId: form.id, answers: { name: 'Ada' } },
        idempotencyKey: 'bad-input:valid',
      },
    });
    const deadline = Date.now() + 30_000;
    while (emailCalls.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emailCalls).toHaveLength(1);
    const status = await worker.inject({ method: 'GET', url: '/worker' });
    expect(status.json()).toMatchObject({ polling: true, failed: 6 });
  });

  it('its HTTP surface refuses anything but reads: 404 with a message', async () => {
    for (const [method, url, payload] of [
      ['POST', '/worker', '{"polling":false}'],
      ['POST', '/jobs/claim', '{"worker":"x"}'],
      ['GET', '/../../etc/passwd', undefined],
      ['DELETE', '/worker', undefined],
      ['POST', '/worker', '{"broken":'],
    ] as const) {
      const res = await worker.inject({
        method,
        url,
        ...(payload ? { payload, headers: { 'content-type': 'application/json' } } : {}),
      });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(500);
      expect(res.json().message, `${method} ${url}`).toEqual(expect.any(String));
    }
    expect((await worker.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
