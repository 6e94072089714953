import { Writable } from 'node:stream';
import { createLogger } from '@repo/service-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import { eventually, startFakeDataService, startFakeEmailService } from './fakes';

const logger = createLogger({ service: 'worker-service', level: 'silent' });

let data: Awaited<ReturnType<typeof startFakeDataService>>;
let email: Awaited<ReturnType<typeof startFakeEmailService>>;
let app: ReturnType<typeof buildApp>;

function makeApp(env: Record<string, string> = {}, log = logger) {
  const config = configSchema.parse({
    DATA_SERVICE_URL: data.url,
    EMAIL_SERVICE_URL: email.url,
    WORKER_POLL_INTERVAL_MS: '20',
    WORKER_NAME: 'test-worker',
    ...env,
  });
  return buildApp({ config, logger: log });
}

const contactForm = {
  title: 'Contact us',
  fields: [
    { name: 'name', label: 'Your name', type: 'text', required: true },
    { name: 'age', label: 'Age', type: 'number', required: false },
    { name: 'topic', label: 'Topic', type: 'choice', required: true, options: ['sales', 'support'] },
  ],
};

beforeEach(async () => {
  data = await startFakeDataService();
  email = await startFakeEmailService();
  app = makeApp();
});
afterEach(async () => {
  await app.close();
  await data.close();
  await email.close();
});

const startPolling = () => app.listen({ port: 0, host: '127.0.0.1' });

describe('send-confirmation-email', () => {
  it('claims the job, emails the form owner under the job key, and acks it', async () => {
    const { owner, form } = data.addOwnerWithForm(contactForm, 'ada@example.com');
    const job = data.enqueue(
      'send-confirmation-email',
      { formId: form.id, answers: { name: 'Bo', topic: 'sales' } },
      'submission:k1',
    );
    await startPolling();
    await eventually(() => app.poller.status().processed === 1, 'the job to be acked');
    expect(job.status).toBe('done');

    expect(email.sends).toEqual([
      {
        idempotencyKey: 'submission:k1',
        to: owner.email,
        subject: 'New submission to "Contact us"',
        text: expect.stringContaining('Your name: Bo\nAge: (no answer)\nTopic: sales\n'),
      },
    ]);
    const [claim] = data.callsTo('POST', /^\/jobs\/claim$/);
    expect(claim?.body).toEqual({
      worker: 'test-worker',
      limit: 5,
      leaseMs: 30_000,
      types: ['send-confirmation-email', 'send-digest-email'],
    });
    expect(data.callsTo('POST', new RegExp(`^/jobs/${job.id}/ack$`))).toHaveLength(1);
    expect(data.callsTo('POST', /\/fail$/)).toEqual([]);

    const health = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.queue).toEqual({ pending: 0, running: 0, dead: 0, processed: 1, failed: 0 });
  });

  it('reports a failed send with fail and its reason, and the retry under the same key succeeds', async () => {
    const { form } = data.addOwnerWithForm(contactForm);
    const job = data.enqueue('send-confirmation-email', {
      formId: form.id,
      answers: { name: 'Cy', topic: 'support' },
    });
    email.control.failures = 1;
    await startPolling();
    await eventually(() => app.poller.status().processed === 1, 'the retried job to be acked');
    expect(job.status).toBe('done');

    const fails = data.callsTo('POST', new RegExp(`^/jobs/${job.id}/fail$`));
    expect(fails).toHaveLength(1);
    expect(fails[0]?.body).toEqual({
      leaseToken: expect.any(String),
      error: 'email-service failed: 500 SMTP server 127.0.0.1:2525 failed: connect ECONNREFUSED',
    });
    expect(job.attempts).toBe(2);
    expect(email.sends.map((s) => s.idempotencyKey)).toEqual([job.idempotencyKey, job.idempotencyKey]);
    const status = (await app.inject({ method: 'GET', url: '/worker' })).json();
    expect(status).toMatchObject({ processed: 1, failed: 1, lastError: { jobId: job.id } });
  });

  it('a request the upstream refused (4xx) is an error from the first attempt: a retry sends the same one', async () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    await app.close();
    app = makeApp({}, createLogger({ service: 'worker-service', level: 'info', destination: sink }));
    const { form } = data.addOwnerWithForm(contactForm);
    const job = data.enqueue('send-confirmation-email', {
      formId: form.id,
      answers: { name: 'Ed', topic: 'sales' },
    });
    email.control.refusals = 1;
    email.control.failures = 1;
    await startPolling();
    await eventually(() => app.poller.status().processed === 1, 'the job to be acked after two failures');
    const failures = lines.filter((line) => line.msg.includes('failed on attempt'));
    expect(failures.map((line) => [line.level, line.msg.replace(job.id, '<job>')])).toEqual([
      [
        50,
        'job <job> (send-confirmation-email) failed on attempt 1/3: the request was refused (400), and every retry sends the same one: invalid email: to: Invalid input: expected string, received undefined',
      ],
      // A 5xx is the upstream's own failure: a retry may outlast it.
      [
        40,
        'job <job> (send-confirmation-email) failed on attempt 2/3, data-service retries it: email-service failed: 500 SMTP server 127.0.0.1:2525 failed: connect ECONNREFUSED',
      ],
    ]);
  });

  it('sends a redelivered job (ack lost) under the same idempotency key', async () => {
    const { form } = data.addOwnerWithForm(contactForm);
    const job = data.enqueue('send-confirmation-email', {
      formId: form.id,
      answers: { name: 'Di', topic: 'sales' },
    });
    data.faults.ackFailures = 1;
    await startPolling();
    await eventually(() => job.status === 'done', 'the redelivered job to be acked');
    expect(job.attempts).toBe(2);
    expect(email.sends.map((s) => s.idempotencyKey)).toEqual([job.idempotencyKey, job.idempotencyKey]);
  });

  it('fails a job whose form is gone until it is dead, with the reason', async () => {
    const job = data.enqueue(
      'send-confirmation-email',
      { formId: '99999999-9999-4999-8999-999999999999', answers: {} },
      'submission:gone',
      2,
    );
    await startPolling();
    await eventually(() => job.status === 'dead', 'the job to go dead');
    expect(job.lastError).toBe('form 99999999-9999-4999-8999-999999999999 not found');
    expect(email.sends).toEqual([]);
  });

  it('fails a job with a malformed payload, naming the bad field', async () => {
    const job = data.enqueue('send-confirmation-email', { answers: {} }, 'submission:malformed', 1);
    await startPolling();
    await eventually(() => job.status === 'dead', 'the job to go dead');
    expect(job.lastError).toMatch(/malformed payload: formId: /);
  });
});

describe('send-digest-email', () => {
  it('emails the owner a summary under the digest key', async () => {
    const job = data.enqueue(
      'send-digest-email',
      {
        ownerId: 'owner-1',
        email: 'owner@example.com',
        date: '2026-01-02',
        since: '2026-01-01T08:00:00.000Z',
        forms: [
          { id: 'f1', title: 'Contact us', submissions: 2 },
          { id: 'f2', title: 'Survey', submissions: 1 },
        ],
      },
      'digest:owner-1:2026-01-02',
    );
    await startPolling();
    await eventually(() => job.status === 'done', 'the digest job to be acked');
    expect(email.sends).toEqual([
      {
        idempotencyKey: 'digest:owner-1:2026-01-02',
        to: 'owner@example.com',
        subject: 'Your daily digest for 2026-01-02: 3 new submissions',
        text: 'New submissions since 2026-01-01T08:00:00.000Z:\n\n- "Contact us": 2\n- "Survey": 1\n',
      },
    ]);
  });
});

describe('lifecycle', () => {
  it('does not poll before listening', async () => {
    await app.inject({ method: 'GET', url: '/health' });
    expect(data.callsTo('POST', /^\/jobs\/claim$/)).toEqual([]);
  });

  it('on close stops polling only after the job in flight is acked', async () => {
    const { form } = data.addOwnerWithForm(contactForm);
    const job = data.enqueue('send-confirmation-email', {
      formId: form.id,
      answers: { name: 'Ed', topic: 'sales' },
    });
    let release = () => {};
    email.control.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await startPolling();
    await eventually(() => email.sends.length === 1, 'the send to be in flight');

    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    await eventually(() => app.poller.status().polling === false, 'polling to stop');
    expect(closed).toBe(false);
    expect(job.status).toBe('running');

    release();
    await closing;
    expect(job.status).toBe('done');
    const claimsAtClose = data.callsTo('POST', /^\/jobs\/claim$/).length;
    await new Promise((r) => setTimeout(r, 100));
    expect(data.callsTo('POST', /^\/jobs\/claim$/).length).toBe(claimsAtClose);
  });

  it('answers /health with queue counts as null when data-service is down, and /ready names both upstreams', async () => {
    await data.close();
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json().queue).toMatchObject({
      pending: null,
      running: null,
      dead: null,
      processed: 0,
      failed: 0,
    });
    expect(health.json().queue.error).toMatch(/data-service unreachable/);
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks).toMatchObject({
      'data-service': { ok: false },
      'email-service': { ok: true },
    });
  });
});
