import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Form, Job, User } from '../src/types';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/**
 * A real HTTP server playing data-service (docs/internal-api.md) for the worker: an in-memory queue
 * with claim/ack/fail and leases, forms and users, and `/emails` for a real email-service. A failed
 * job is due again at once (no backoff) so tests need not wait. Every request is recorded.
 */
export async function startFakeDataService() {
  const jobs: Job[] = [];
  const forms = new Map<string, Form>();
  const users = new Map<string, User>();
  const emails = new Map<string, Record<string, unknown>>();
  const calls: { method: string; url: string; body: unknown }[] = [];
  const faults = { ackFailures: 0 };
  const app = Fastify();
  app.addHook('preHandler', async (req) => {
    calls.push({ method: req.method, url: req.url, body: req.body });
  });

  const now = () => new Date().toISOString();
  app.get('/health', async () => ({ status: 'ok' }));
  app.get<{ Params: { id: string } }>('/forms/:id', async (req, reply) => {
    return forms.get(req.params.id) ?? reply.code(404).send({ message: `form ${req.params.id} not found` });
  });
  app.get<{ Params: { id: string } }>('/users/:id', async (req, reply) => {
    const user = users.get(req.params.id);
    return user ?? reply.code(404).send({ message: `user ${req.params.id} not found` });
  });
  app.post<{ Body: { limit?: number; leaseMs?: number; types?: string[] } }>('/jobs/claim', async (req) => {
    const t = Date.now();
    const due = jobs.filter(
      (j) =>
        (req.body.types ?? [j.type]).includes(j.type) &&
        ((j.status === 'pending' && Date.parse(j.runAt) <= t) ||
          (j.status === 'running' && j.leaseUntil !== null && Date.parse(j.leaseUntil) < t)),
    );
    const claimed = due.slice(0, req.body.limit ?? 1);
    for (const job of claimed) {
      Object.assign(job, {
        status: 'running',
        attempts: job.attempts + 1,
        leaseToken: randomUUID(),
        leaseUntil: new Date(t + (req.body.leaseMs ?? 30_000)).toISOString(),
        updatedAt: now(),
      });
    }
    return { jobs: claimed };
  });
  app.post<{ Params: { id: string }; Body: { leaseToken: string } }>('/jobs/:id/ack', async (req, reply) => {
    const job = jobs.find((j) => j.id === req.params.id);
    if (!job || job.leaseToken !== req.body.leaseToken)
      return reply.code(409).send({ message: 'lease lost' });
    if (faults.ackFailures > 0) {
      // The ack is lost: the lease ends and the job will be handed out again.
      faults.ackFailures--;
      Object.assign(job, { leaseUntil: new Date(0).toISOString() });
      return reply.code(500).send({ message: 'database is locked' });
    }
    Object.assign(job, { status: 'done', leaseToken: null, leaseUntil: null, updatedAt: now() });
    return job;
  });
  app.post<{ Params: { id: string }; Body: { leaseToken: string; error: string } }>(
    '/jobs/:id/fail',
    async (req, reply) => {
      const job = jobs.find((j) => j.id === req.params.id);
      if (!job || job.leaseToken !== req.body.leaseToken)
        return reply.code(409).send({ message: 'lease lost' });
      const dead = job.attempts >= job.maxAttempts;
      Object.assign(job, {
        status: dead ? 'dead' : 'pending',
        lastError: req.body.error,
        leaseToken: null,
        leaseUntil: null,
        runAt: now(),
        updatedAt: now(),
      });
      return job;
    },
  );
  app.get('/jobs/stats', async () => {
    const count = (status: Job['status']) => jobs.filter((j) => j.status === status).length;
    return {
      pending: count('pending'),
      running: count('running'),
      done: count('done'),
      dead: count('dead'),
      oldestPendingAgeMs: null,
    };
  });
  app.get<{ Params: { key: string } }>('/emails/:key', async (req, reply) => {
    return emails.get(req.params.key) ?? reply.code(404).send({ message: 'not sent' });
  });
  app.post<{ Body: { idempotencyKey: string } }>('/emails', async (req, reply) => {
    const existing = emails.get(req.body.idempotencyKey);
    if (existing) return existing;
    const record = { ...req.body, sentAt: now() };
    emails.set(req.body.idempotencyKey, record);
    reply.code(201);
    return record;
  });

  const url = await listen(app);
  return {
    url,
    jobs,
    calls,
    faults,
    emails,
    addOwnerWithForm(form: Omit<Form, 'id' | 'ownerId' | 'createdAt'>, email = 'owner@example.com') {
      const owner: User = { id: randomUUID(), email, createdAt: now() };
      users.set(owner.id, owner);
      const stored: Form = { ...form, id: randomUUID(), ownerId: owner.id, createdAt: now() };
      forms.set(stored.id, stored);
      return { owner, form: stored };
    },
    enqueue(type: string, payload: unknown, idempotencyKey = `test:${randomUUID()}`, maxAttempts = 3): Job {
      const job: Job = {
        id: randomUUID(),
        type,
        payload,
        idempotencyKey,
        status: 'pending',
        attempts: 0,
        maxAttempts,
        runAt: now(),
        leaseToken: null,
        leaseUntil: null,
        lastError: null,
        createdAt: now(),
        updatedAt: now(),
      };
      jobs.push(job);
      return job;
    },
    callsTo(method: string, pattern: RegExp) {
      return calls.filter((c) => c.method === method && pattern.test(c.url));
    },
    close: () => app.close(),
  };
}

export interface SendCall {
  idempotencyKey: string;
  to: string;
  subject: string;
  text: string;
}

/**
 * A real HTTP server playing email-service's `POST /send`. `failures` answers 500 that many times;
 * `gate`, when set, holds every send until it resolves (to catch a job in flight).
 */
export async function startFakeEmailService() {
  const sends: SendCall[] = [];
  const control: { failures: number; refusals: number; gate: Promise<void> | undefined } = {
    failures: 0,
    refusals: 0,
    gate: undefined,
  };
  const app = Fastify();
  app.get('/health', async () => ({ status: 'ok' }));
  app.post<{ Body: SendCall }>('/send', async (req, reply) => {
    sends.push(req.body);
    if (control.gate) await control.gate;
    if (control.refusals > 0) {
      control.refusals--;
      return reply
        .code(400)
        .send({ message: 'invalid email: to: Invalid input: expected string, received undefined' });
    }
    if (control.failures > 0) {
      control.failures--;
      return reply.code(500).send({ message: 'SMTP server 127.0.0.1:2525 failed: connect ECONNREFUSED' });
    }
    return { messageId: `<${randomUUID()}@devstack.local>`, transport: 'outbox', duplicate: false };
  });
  const url = await listen(app);
  return { url, sends, control, close: () => app.close() };
}

/** Resolves once `predicate` holds, polling; fails naming `what` after `timeoutMs`. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
