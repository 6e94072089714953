// email-service's answer to POST /send is what worker-service reads (docs/internal-api.md). When it
// would drift -- here because the sent-email record data-service hands back has lost its messageId --
// email-service answers 500 and logs, at error, the route and the field, instead of answering
// `messageId: undefined` with a 200. The real app and outbox transport, against a real HTTP server
// playing data-service's /emails routes, whose stored record is made to drift.
import { join } from 'node:path';
import { createLogger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { type SentEmailRecord, startFakeDataService, tempDir, testConfig } from './helpers';

let data: Awaited<ReturnType<typeof startFakeDataService>>;
let app: FastifyInstance;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  data = await startFakeDataService();
  const serviceDir = tempDir('email-contract-');
  app = buildApp({
    config: testConfig({ DATA_SERVICE_URL: data.url, EMAIL_OUTBOX_DIR: join(serviceDir, 'outbox') }),
    logger: createLogger({
      service: 'email-service',
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    }),
    serviceDir,
  });
});
afterAll(async () => {
  await app?.close();
  await data?.close();
});

it('POST /send of an email whose record lost its messageId: 500 logged with the route and field', async () => {
  const { messageId, ...drifted } = {
    idempotencyKey: 'submission:drift-1',
    to: 'owner@example.com',
    subject: 'New submission',
    transport: 'outbox',
    messageId: '<m1@example.com>',
    sentAt: '2030-01-01T00:00:00.000Z',
  };
  data.records.set('submission:drift-1', { ...drifted, id: messageId } as unknown as SentEmailRecord);
  const res = await app.inject({
    method: 'POST',
    url: '/send',
    headers: { 'x-request-id': 'send-1' },
    payload: {
      idempotencyKey: 'submission:drift-1',
      to: 'owner@example.com',
      subject: 'New submission',
      text: 'x',
    },
  });
  expect(res.statusCode).toBe(500);
  expect(res.json()).toEqual({
    message: 'email-service answered POST /send with a body that breaks its response schema',
    requestId: 'send-1',
  });
  const errors = lines.filter((line) => line.level === 50);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({
    route: 'POST /send',
    msg:
      'email-service POST /send answered 200 with a body that breaks its response schema: ' +
      'messageId: Invalid input: expected string, received undefined',
  });
});
