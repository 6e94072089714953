import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createLogger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { outboxFileName } from '../src/transports/outbox';
import { startFakeDataService, tempDir, testConfig } from './helpers';

const logger = createLogger({ service: 'email-service', level: 'silent' });

let data: Awaited<ReturnType<typeof startFakeDataService>>;
let serviceDir: string;
let outbox: string;
let app: FastifyInstance;

beforeAll(async () => {
  data = await startFakeDataService();
  serviceDir = tempDir('email-service-');
  outbox = join(serviceDir, 'outbox');
  app = buildApp({ config: testConfig({ DATA_SERVICE_URL: data.url }), logger, serviceDir });
});
afterAll(async () => {
  await app.close();
  await data.close();
});

const email = (key: string) => ({
  idempotencyKey: key,
  to: 'owner@example.com',
  subject: 'New submission to "Contact us"',
  text: 'name: Ada\nemail: ada@example.com',
});
const send = (body: object) => app.inject({ method: 'POST', url: '/send', payload: body });
/** The Subject header, decoded from the RFC 2047 Q encoding nodemailer uses for quotes. */
function decodeSubject(headers: string): string {
  const raw = /^Subject: (.*)$/m.exec(headers)?.[1] ?? '';
  return raw.replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, q: string) =>
    decodeURIComponent(q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, '%$1')),
  );
}
const emlFiles = () => readdirSync(outbox).filter((f) => f.endsWith('.eml'));

describe('outbox transport', () => {
  it('writes one RFC 822 .eml, resolved from the service folder, and records it in data-service', async () => {
    const res = await send(email('submission:first'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      messageId: expect.stringMatching(/^<.+@devstack\.local>$/),
      transport: 'outbox',
      duplicate: false,
    });

    const file = join(outbox, outboxFileName('submission:first'));
    const eml = readFileSync(file, 'utf8');
    const [headers = ''] = eml.split('\r\n\r\n');
    // nodemailer quotes a display name holding anything but letters, digits and spaces ("my-app"): a
    // project made by `devctl init my-app` gets `From: "my-app" <...>`, this one `From: devstack <...>`.
    expect(headers).toMatch(/^From: "?devstack"? <no-reply@devstack\.local>$/m);
    expect(headers).toMatch(/^To: owner@example\.com$/m);
    expect(decodeSubject(headers)).toBe('New submission to "Contact us"');
    expect(headers).toMatch(/^MIME-Version: 1\.0$/m);
    expect(headers).toContain(`Message-ID: ${body.messageId}`);
    expect(headers).toMatch(/^X-Idempotency-Key: submission:first$/m);
    expect(eml).toContain('name: Ada\r\nemail: ada@example.com');

    expect(data.records.get('submission:first')).toMatchObject({
      to: 'owner@example.com',
      transport: 'outbox',
      messageId: body.messageId,
    });
  });

  it('writes exactly one .eml for repeated and concurrent sends of one key', async () => {
    const key = 'submission:repeated';
    const first = await send(email(key));
    const again = await Promise.all([1, 2, 3, 4, 5].map(() => send(email(key))));
    const later = await send(email(key));
    expect(first.json().duplicate).toBe(false);
    for (const res of [...again, later]) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ...first.json(), duplicate: true });
    }
    expect(emlFiles().filter((f) => f === outboxFileName(key))).toHaveLength(1);
    expect(readdirSync(outbox).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('treats a key data-service already recorded as sent, without writing a file', async () => {
    const key = 'submission:recorded-before-a-crash';
    data.records.set(key, {
      idempotencyKey: key,
      to: 'owner@example.com',
      subject: 'x',
      transport: 'smtp',
      messageId: '<earlier@devstack.local>',
      sentAt: new Date().toISOString(),
    });
    const res = await send(email(key));
    expect(res.json()).toEqual({ messageId: '<earlier@devstack.local>', transport: 'smtp', duplicate: true });
    expect(existsSync(join(outbox, outboxFileName(key)))).toBe(false);
  });

  it('treats an existing outbox file as sent (crash before recording) and records it', async () => {
    const key = 'submission:written-before-a-crash';
    const file = join(outbox, outboxFileName(key));
    const earlier = 'Message-ID: <crashed@devstack.local>\r\nSubject: earlier\r\n\r\nbody\r\n';
    writeFileSync(file, earlier);
    const res = await send(email(key));
    expect(res.json()).toEqual({
      messageId: '<crashed@devstack.local>',
      transport: 'outbox',
      duplicate: true,
    });
    expect(readFileSync(file, 'utf8')).toBe(earlier);
    expect(data.records.get(key)?.messageId).toBe('<crashed@devstack.local>');
  });

  it('sends nothing while data-service cannot say whether the key was sent', async () => {
    const down = await startFakeDataService();
    await down.close();
    const offline = buildApp({ config: testConfig({ DATA_SERVICE_URL: down.url }), logger, serviceDir });
    try {
      const res = await offline.inject({
        method: 'POST',
        url: '/send',
        payload: email('submission:offline'),
      });
      expect(res.statusCode).toBe(502);
      expect(res.json().message).toMatch(
        /cannot tell whether email submission:offline was already sent.*data-service unreachable/,
      );
      expect(existsSync(join(outbox, outboxFileName('submission:offline')))).toBe(false);
      const ready = await offline.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.outbox.ok).toBe(true);
    } finally {
      await offline.close();
    }
  });

  it('fails when the record cannot be written, and the retry records without sending again', async () => {
    const key = 'submission:record-fails';
    data.state.failRecords = true;
    const failed = await send(email(key));
    data.state.failRecords = false;
    expect(failed.statusCode).toBe(502);
    expect(failed.json().message).toMatch(/was sent \(outbox\) but data-service did not record it/);

    const retried = await send(email(key));
    expect(retried.statusCode).toBe(200);
    expect(retried.json().duplicate).toBe(true);
    expect(data.records.has(key)).toBe(true);
    expect(emlFiles().filter((f) => f === outboxFileName(key))).toHaveLength(1);
  });

  it('names each invalid field of a send request', async () => {
    const res = await send({ idempotencyKey: 'has space', to: 'nobody', subject: 'two\nlines', extra: 1 });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json().fields).sort()).toEqual([
      'extra',
      'idempotencyKey',
      'subject',
      'text',
      'to',
    ]);
  });

  it('reports the transport on /health and readiness of data-service and the outbox on /ready', async () => {
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ status: 'ok', transport: 'outbox', outboxDir: outbox });
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(Object.keys(ready.json().checks).sort()).toEqual(['data-service', 'outbox']);
  });
});

describe('outboxFileName', () => {
  it('keeps plain keys readable and keeps distinct keys apart', () => {
    expect(outboxFileName('digest-2026-01-01')).toBe('digest-2026-01-01.eml');
    const names = ['a:b', 'a_b', 'a/b', 'a b'].map(outboxFileName);
    expect(new Set(names).size).toBe(4);
  });

  it('never leaves the folder, whatever the key', () => {
    for (const key of ['../../etc/passwd', '/abs', 'a\\b', '..', `${'x'.repeat(300)}`]) {
      const name = outboxFileName(key);
      expect(name).not.toMatch(/[/\\]/);
      expect(name.length).toBeLessThanOrEqual(140);
      expect(dirname(resolve(outbox, name))).toBe(outbox);
    }
  });
});
