// Hostile and malformed requests to email-service, in front of the real data-service (its own
// process, from source, over a throwaway SQLite file) with a throwaway outbox: each gets a 4xx
// whose message says what is wrong, no email is written or recorded, and the service keeps
// answering. A key that tries to climb out of the outbox is written inside it.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@repo/service-kit';
import { startRealDataService, type TempDir, tempDir } from '@repo/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';

let scratch: TempDir;
let outbox = '';
let dataService: Awaited<ReturnType<typeof startRealDataService>>;
let dataUrl = '';
let app: FastifyInstance;
/** Every key a refused request carried: none may be recorded by data-service. */
const refusedKeys = new Set<string>();

const good = { idempotencyKey: 'bad-input-good', to: 'owner@example.com', subject: 'Hello', text: 'Body' };

beforeAll(async () => {
  scratch = tempDir('email-bad-input-');
  outbox = join(scratch.path, 'deep', 'down', 'outbox');
  dataService = await startRealDataService();
  dataUrl = dataService.url;
  const config = configSchema.parse({ DATA_SERVICE_URL: dataUrl, EMAIL_OUTBOX_DIR: outbox });
  app = buildApp({
    config,
    logger: createLogger({ service: 'email-service', level: 'silent' }),
    serviceDir: fileURLToPath(new URL('..', import.meta.url)),
  });
  await app.ready();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await dataService?.stop();
  scratch?.cleanup();
});

async function send(payload: string | object, contentType = 'application/json') {
  if (typeof payload === 'object') {
    const key = (payload as { idempotencyKey?: unknown }).idempotencyKey;
    if (typeof key === 'string' && key.length <= 200) refusedKeys.add(key);
  }
  const res = await app.inject({
    method: 'POST',
    url: '/send',
    headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
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
    describe: `POST /send -> ${res.statusCode} ${res.body.slice(0, 300)}`,
  };
}

function expectClearRefusal(res: Awaited<ReturnType<typeof send>>, status?: number) {
  if (status !== undefined) expect(res.status, res.describe).toBe(status);
  expect(res.status, res.describe).toBeGreaterThanOrEqual(400);
  expect(res.status, res.describe).toBeLessThan(500);
  expect(res.body.message, res.describe).toEqual(expect.any(String));
  expect(res.body.message?.length, res.describe).toBeGreaterThan(5);
}

const emlFiles = () => (existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')) : []);

describe('email-service refuses bad input with a 4xx that says why, and sends nothing', () => {
  it('malformed JSON and non-object bodies: 400', async () => {
    for (const body of ['{"to":', "{'to':'a@b.c'}", '{"a":1}}', 'null', '[]', '"mail"', '0']) {
      expectClearRefusal(await send(body), 400);
    }
    expect((await send('{"to":')).body.message).toMatch(/JSON/i);
  });

  it('wrong types and missing fields: 400 naming each', async () => {
    const res = await send({ idempotencyKey: 5, to: ['a@b.c'], subject: null, text: { html: '<b>' } });
    expectClearRefusal(res, 400);
    expect(Object.keys(res.body.fields ?? {}).sort()).toEqual(['idempotencyKey', 'subject', 'text', 'to']);
    const empty = await send({});
    expectClearRefusal(empty, 400);
    expect(Object.keys(empty.body.fields ?? {}).sort()).toEqual(['idempotencyKey', 'subject', 'text', 'to']);
  });

  it('unknown fields (bcc, attachments, from): 400 naming them', async () => {
    for (const extra of ['bcc', 'attachments', 'from', 'html']) {
      const res = await send({ ...good, idempotencyKey: `unknown-${extra}`, [extra]: 'x' });
      expectClearRefusal(res, 400);
      expect(res.body.fields?.[extra], res.describe).toBe('unknown field');
    }
  });

  it('header injection in subject or recipient: 400', async () => {
    const cases: [object, string][] = [
      [{ ...good, idempotencyKey: 'inject-1', subject: 'Hi\r\nBcc: victim@example.com' }, 'subject'],
      [{ ...good, idempotencyKey: 'inject-2', subject: 'Hi\nX-Evil: 1' }, 'subject'],
      [{ ...good, idempotencyKey: 'inject-3', to: 'owner@example.com\r\nBcc: victim@example.com' }, 'to'],
      [{ ...good, idempotencyKey: 'inject-4', to: 'owner@example.com, victim@example.com' }, 'to'],
      [{ ...good, idempotencyKey: 'inject-5', to: '"Owner" <owner@example.com>' }, 'to'],
    ];
    for (const [body, field] of cases) {
      const res = await send(body);
      expectClearRefusal(res, 400);
      expect(res.body.fields?.[field], res.describe).toEqual(expect.any(String));
    }
  });

  it('idempotency keys with spaces, control or non-ASCII characters: 400', async () => {
    for (const key of ['has space', 'tab\there', 'new\nline', 'ключ', 'nul\u0000', '']) {
      const res = await send({ ...good, idempotencyKey: key });
      expectClearRefusal(res, 400);
      expect(res.body.fields?.idempotencyKey, res.describe).toEqual(expect.any(String));
    }
  });

  it('an oversized body (over 256 KiB): 413; a long text or key inside it: 400', async () => {
    expectClearRefusal(await send({ ...good, idempotencyKey: 'huge', text: 'x'.repeat(300 * 1024) }), 413);
    const longText = await send({ ...good, idempotencyKey: 'long-text', text: 'x'.repeat(150_000) });
    expectClearRefusal(longText, 400);
    expect(longText.body.fields?.text).toEqual(expect.any(String));
    const longKey = await send({ ...good, idempotencyKey: 'k'.repeat(5000) });
    expectClearRefusal(longKey, 400);
    const longSubject = await send({ ...good, idempotencyKey: 'long-subject', subject: 's'.repeat(5000) });
    expectClearRefusal(longSubject, 400);
  });

  it('before any valid send: no .eml written and no key recorded in data-service', async () => {
    expect(emlFiles()).toEqual([]);
    for (const key of refusedKeys) {
      if (key === '') continue;
      const res = await fetch(`${dataUrl}/emails/${encodeURIComponent(key)}`);
      expect(res.status, `${key} recorded: ${await res.text()}`).toBe(404);
    }
  });

  it('a key that climbs out of the outbox (../, SQL) is sent once, into a file inside the outbox', async () => {
    const keys = ['../../../../escaped', '..\\..\\escaped', "x'OR'1'='1';DROP-TABLE-sent_emails;--"];
    for (const key of keys) {
      refusedKeys.delete(key);
      const res = await send({ ...good, idempotencyKey: key });
      expect(res.status, res.describe).toBe(200);
      const again = await send({ ...good, idempotencyKey: key });
      expect((again.body as { duplicate?: boolean }).duplicate, again.describe).toBe(true);
    }
    expect(emlFiles()).toHaveLength(keys.length);
    for (const file of emlFiles()) expect(file).not.toContain('/');
    for (const climbed of [
      resolve(outbox, '../../../../escaped.eml'),
      resolve(outbox, '..', 'escaped.eml'),
    ]) {
      expect(existsSync(climbed), climbed).toBe(false);
    }
  });

  it('after all of it the service still answers', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});
