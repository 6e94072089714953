import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { configSchema, type EmailConfig } from '../src/config';

export interface SentEmailRecord {
  idempotencyKey: string;
  to: string;
  subject: string;
  transport: string;
  messageId: string;
  sentAt: string;
}

/**
 * A real HTTP server on a free port playing data-service's `/emails` routes, reservations included
 * (docs/internal-api.md).
 * `failRecords` makes `POST /emails` answer 500, as a data-service losing its database would.
 */
export async function startFakeDataService() {
  const records = new Map<string, SentEmailRecord>();
  const state = { failRecords: false, lookups: 0 };
  const app = Fastify();
  app.get('/health', async () => ({ status: 'ok' }));
  app.get<{ Params: { key: string } }>('/emails/:key', async (req, reply) => {
    state.lookups++;
    const record = records.get(req.params.key);
    if (!record) return reply.code(404).send({ message: `no email sent for ${req.params.key}` });
    return record;
  });
  // The reservation data-service keeps: the key is given to one holder until it expires.
  const reservations = new Map<string, { holder: string; until: number }>();
  app.post<{ Body: { idempotencyKey: string; holder: string; leaseMs: number } }>(
    '/emails/reservations',
    async (req) => {
      state.lookups++;
      const { idempotencyKey, holder, leaseMs } = req.body;
      const record = records.get(idempotencyKey);
      if (record) return { state: 'sent', email: record };
      const held = reservations.get(idempotencyKey);
      if (held && held.holder !== holder && held.until > Date.now())
        return { state: 'busy', holder: held.holder, reservedUntil: new Date(held.until).toISOString() };
      const until = Date.now() + leaseMs;
      reservations.set(idempotencyKey, { holder, until });
      return { state: 'reserved', holder, reservedUntil: new Date(until).toISOString() };
    },
  );
  app.delete<{ Params: { key: string }; Body: { holder: string } }>(
    '/emails/reservations/:key',
    async (req) => {
      const held = reservations.get(req.params.key);
      const released = held?.holder === req.body.holder;
      if (released) reservations.delete(req.params.key);
      return { released };
    },
  );
  app.post<{ Body: Omit<SentEmailRecord, 'sentAt'> }>('/emails', async (req, reply) => {
    if (state.failRecords) return reply.code(500).send({ message: 'database is locked' });
    const existing = records.get(req.body.idempotencyKey);
    if (existing) return existing;
    const record = { ...req.body, sentAt: new Date().toISOString() };
    records.set(record.idempotencyKey, record);
    reply.code(201);
    return record;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, records, state, close: () => app.close() };
}

/** A pino logger whose lines are kept in memory, to assert what the service logged. */
export function captureLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config as the schema would produce it from `env`, for building the app in tests. */
export function testConfig(env: Record<string, string>): EmailConfig {
  return configSchema.parse(env);
}

/** Resolves once `predicate` holds, polling; fails with `what` after `timeoutMs`. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
