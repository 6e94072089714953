import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { captureLogger, eventually, startFakeDataService, tempDir, testConfig } from './helpers';

interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server (the smtp-server package) on a free port that keeps what it receives. */
async function startSmtpServer(port = 0) {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP: the package's built-in test certificate would fail verification anyway.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const address = server.server.address() as AddressInfo;
  return {
    port: address.port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

let data: Awaited<ReturnType<typeof startFakeDataService>>;
beforeAll(async () => {
  data = await startFakeDataService();
});
afterAll(async () => {
  await data.close();
});

describe('smtp transport against a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let app: FastifyInstance;
  let lines: { level: number; msg: string }[];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const captured = captureLogger();
    lines = captured.lines;
    app = buildApp({
      config: testConfig({
        DATA_SERVICE_URL: data.url,
        EMAIL_TRANSPORT: 'smtp',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
      }),
      logger: captured.logger,
      serviceDir: tempDir('email-smtp-'),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  it('logs that the SMTP connection is established at start', async () => {
    await eventually(
      () => lines.some((l) => l.msg.startsWith('SMTP connection')),
      'the SMTP verification log line',
    );
    expect(lines.find((l) => l.msg.startsWith('SMTP connection'))?.msg).toBe(
      `SMTP connection established to 127.0.0.1:${smtp.port}`,
    );
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.smtp.ok).toBe(true);
  });

  it('delivers a message once per key, and records it as smtp', async () => {
    const body = {
      idempotencyKey: 'submission:smtp-1',
      to: 'owner@example.com',
      subject: 'New submission to "Survey"',
      text: 'answer: yes',
    };
    const first = await app.inject({ method: 'POST', url: '/send', payload: body });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ transport: 'smtp', duplicate: false });
    const second = await app.inject({ method: 'POST', url: '/send', payload: body });
    expect(second.json()).toMatchObject({
      transport: 'smtp',
      duplicate: true,
      messageId: first.json().messageId,
    });

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail?.from).toBe('no-reply@devstack.local');
    expect(mail?.to).toEqual(['owner@example.com']);
    expect(mail?.raw).toContain(`Message-ID: ${first.json().messageId}`);
    expect(mail?.raw).toContain('X-Idempotency-Key: submission:smtp-1');
    expect(mail?.raw).toContain('answer: yes');
    expect(data.records.get('submission:smtp-1')?.transport).toBe('smtp');
  });
});

describe('smtp transport when the server is unreachable', () => {
  it('logs the exact failure at start and /ready reports it', async () => {
    const port = await closedPort();
    const { logger, lines } = captureLogger();
    const app = buildApp({
      config: testConfig({
        DATA_SERVICE_URL: data.url,
        EMAIL_TRANSPORT: 'smtp',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(port),
      }),
      logger,
      serviceDir: tempDir('email-smtp-down-'),
    });
    try {
      await app.ready();
      await eventually(
        () => lines.some((l) => l.msg.startsWith('SMTP connection')),
        'the SMTP failure log line',
      );
      const line = lines.find((l) => l.msg.startsWith('SMTP connection'));
      expect(line?.msg).toBe(
        `SMTP connection to 127.0.0.1:${port} failed: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(line?.level).toBe(50);

      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.smtp).toMatchObject({
        ok: false,
        error: `connect ECONNREFUSED 127.0.0.1:${port}`,
      });

      const send = await app.inject({
        method: 'POST',
        url: '/send',
        payload: { idempotencyKey: 'submission:smtp-down', to: 'a@example.com', subject: 's', text: 't' },
      });
      expect(send.statusCode).toBe(502);
      expect(send.json().message).toBe(
        `email submission:smtp-down not sent: SMTP server 127.0.0.1:${port} failed: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(data.records.has('submission:smtp-down')).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('turns ready once the SMTP server comes up, without a restart', async () => {
    const port = await closedPort();
    const app = buildApp({
      config: testConfig({
        DATA_SERVICE_URL: data.url,
        EMAIL_TRANSPORT: 'smtp',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(port),
      }),
      logger: captureLogger().logger,
      serviceDir: tempDir('email-smtp-late-'),
    });
    let late: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    try {
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
      late = await startSmtpServer(port);
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await late?.close();
    }
  });
});
