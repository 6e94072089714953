import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@repo/service-kit';
import { startRealDataService } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { tempDir, testConfig } from './helpers';

// email-service against the real data-service process: its /emails record is what keeps a key
// sent once across restarts, even when the outbox folder is not the same one.
let data: Awaited<ReturnType<typeof startRealDataService>>;
const logger = createLogger({ service: 'email-service', level: 'silent' });

beforeAll(async () => {
  data = await startRealDataService();
}, 90_000);
afterAll(async () => {
  await data?.stop();
});

const email = {
  idempotencyKey: 'submission:0199a1b2-0000-7000-8000-000000000001',
  to: 'owner@example.com',
  subject: 'New submission to "Real"',
  text: 'name: Ada',
};

describe('email-service + real data-service', () => {
  it('records a send, and a restarted service with another outbox does not send the key again', async () => {
    const firstDir = tempDir('email-first-');
    const first = buildApp({
      config: testConfig({ DATA_SERVICE_URL: data.url }),
      logger,
      serviceDir: firstDir,
    });
    const sent = await first.inject({ method: 'POST', url: '/send', payload: email });
    await first.close();
    expect(sent.statusCode).toBe(200);
    expect(sent.json().duplicate).toBe(false);
    expect(readdirSync(join(firstDir, 'outbox'))).toHaveLength(1);

    const record = await fetch(`${data.url}/emails/${encodeURIComponent(email.idempotencyKey)}`);
    expect(record.status).toBe(200);
    expect(await record.json()).toMatchObject({
      to: email.to,
      transport: 'outbox',
      messageId: sent.json().messageId,
    });

    const secondDir = tempDir('email-second-');
    const second = buildApp({
      config: testConfig({ DATA_SERVICE_URL: data.url }),
      logger,
      serviceDir: secondDir,
    });
    try {
      const again = await second.inject({ method: 'POST', url: '/send', payload: email });
      expect(again.json()).toEqual({
        messageId: sent.json().messageId,
        transport: 'outbox',
        duplicate: true,
      });
      const secondOutbox = join(secondDir, 'outbox');
      expect(existsSync(secondOutbox) ? readdirSync(secondOutbox) : []).toEqual([]);
      expect((await second.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    } finally {
      await second.close();
    }
  });
});
