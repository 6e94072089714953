import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@repo/service-kit';
import { startRealDataService, startRealService, tempDir } from '@repo/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import type { Job } from '../src/types';
import { eventually } from './fakes';

// The worker between the real data-service (queue, forms, users, sent-email records) and the real
// email-service (outbox transport), both their own processes, reached over HTTP only.
const outbox = tempDir('worker-outbox-');
let data: Awaited<ReturnType<typeof startRealDataService>>;
let email: Awaited<ReturnType<typeof startRealService>>;
let worker: ReturnType<typeof buildApp> | undefined;

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
const dataCall = <T>(method: string, path: string, body?: unknown) => call<T>(data.url, method, path, body);

async function startWorker() {
  worker = buildApp({
    config: configSchema.parse({
      DATA_SERVICE_URL: data.url,
      EMAIL_SERVICE_URL: email.url,
      WORKER_POLL_INTERVAL_MS: '50',
      WORKER_LEASE_MS: '2000',
    }),
    logger: createLogger({ service: 'worker-service', level: 'silent' }),
  });
  await worker.listen({ port: 0, host: '127.0.0.1' });
  return worker;
}

/** A form with one submission stored the way form-service stores it: the job in the same call. */
async function submit(title: string, answers: Record<string, unknown>) {
  const owner = await dataCall<{ id: string; email: string }>('POST', '/users', {
    email: `owner-${crypto.randomUUID()}@example.com`,
    passwordHash: 'x',
  });
  const form = await dataCall<{ id: string }>('POST', '/forms', {
    ownerId: owner.id,
    title,
    fields: [
      { name: 'name', label: 'Your name', type: 'text', required: true },
      { name: 'score', label: 'Score', type: 'number', required: false },
    ],
  });
  const submission = await dataCall<{ id: string; jobId: string }>('POST', `/forms/${form.id}/submissions`, {
    answers,
    job: {
      type: 'send-confirmation-email',
      payload: { formId: form.id, answers },
      idempotencyKey: `submission:${crypto.randomUUID()}`,
    },
  });
  return { owner, form, submission };
}

const getJob = (id: string) => dataCall<Job>('GET', `/jobs/${id}`);
const emlFiles = () => readdirSync(outbox.path).filter((f) => f.endsWith('.eml'));

beforeAll(async () => {
  data = await startRealDataService({ JOB_BACKOFF_BASE_MS: '10', JOB_BACKOFF_MAX_MS: '50' });
  email = await startRealService('email', { DATA_SERVICE_URL: data.url, EMAIL_OUTBOX_DIR: outbox.path });
}, 120_000);
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});
afterAll(async () => {
  await email?.stop();
  await data?.stop();
  outbox.cleanup();
});

describe('worker + real data-service + real email-service', () => {
  it('turns a stored submission into one .eml to the owner, acks the job, and reports the queue', async () => {
    const { owner, submission } = await submit('Real survey', { name: 'Ada', score: 7 });
    const app = await startWorker();
    await eventually(() => app.poller.status().processed === 1, 'the job to be acked');

    const job = await getJob(submission.jobId);
    expect(job.status).toBe('done');
    const files = emlFiles().filter((f) => f.startsWith(job.idempotencyKey.replace(':', '_')));
    expect(files).toHaveLength(1);
    const eml = readFileSync(join(outbox.path, files[0] as string), 'utf8');
    expect(eml).toContain(`To: ${owner.email}`);
    expect(eml).toContain('Real survey');
    expect(eml).toContain('Your name: Ada\r\nScore: 7');

    const health = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.queue).toEqual({ pending: 0, running: 0, dead: 0, processed: 1, failed: 0 });
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });

  it('sends no second email when a worker died after sending and before acking', async () => {
    const { owner, form, submission } = await submit('Crash test', { name: 'Bo' });
    // A worker that claims the job, sends its email, and dies: no ack, the lease runs out.
    const { jobs } = await dataCall<{ jobs: Job[] }>('POST', '/jobs/claim', {
      worker: 'doomed-worker',
      limit: 1,
      leaseMs: 1000,
      types: ['send-confirmation-email'],
    });
    expect(jobs.map((j) => j.id)).toEqual([submission.jobId]);
    const [claimed] = jobs as [Job];
    const first = await call<{ duplicate: boolean }>(email.url, 'POST', '/send', {
      idempotencyKey: claimed.idempotencyKey,
      to: owner.email,
      subject: `New submission to "Crash test"`,
      text: `form ${form.id}`,
    });
    expect(first.duplicate).toBe(false);
    const before = emlFiles().length;

    const app = await startWorker();
    await eventually(() => app.poller.status().processed === 1, 'the redelivered job to be acked');
    const job = await getJob(submission.jobId);
    expect(job).toMatchObject({ status: 'done', attempts: 2 });
    expect(emlFiles().length).toBe(before);
  });

  it('fails a job that cannot be sent, retries it after data-service’s backoff, and lets it go dead', async () => {
    const job = await dataCall<Job>('POST', '/jobs', {
      type: 'send-confirmation-email',
      payload: { formId: '00000000-0000-7000-8000-000000000000', answers: {} },
      idempotencyKey: `submission:${crypto.randomUUID()}`,
      maxAttempts: 2,
    });
    const app = await startWorker();
    await eventually(() => app.poller.status().failed === 2, 'both attempts to fail');
    await eventually(() => app.poller.status().inFlight === 0, 'the fail to be reported');
    const dead = await getJob(job.id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 2 });
    expect(dead.lastError).toBe('form 00000000-0000-7000-8000-000000000000 not found');
    const health = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.queue).toMatchObject({ dead: 1, failed: 2 });
  });
});
