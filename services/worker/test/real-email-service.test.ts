import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@repo/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import { eventually, startFakeDataService } from './fakes';

// The real email-service, run as its own process from its source (as `pnpm dev:services` does)
// and reached over HTTP only: this is the pair whose idempotency the worker relies on.
const emailServiceDir = fileURLToPath(new URL('../../email/', import.meta.url));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`email-service exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`email-service did not answer ${url}/health:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let data: Awaited<ReturnType<typeof startFakeDataService>>;
let emailProcess: ChildProcess;
let emailUrl: string;
const outbox = mkdtempSync(join(tmpdir(), 'worker-outbox-'));

beforeAll(async () => {
  data = await startFakeDataService();
  const port = await freePort();
  emailUrl = `http://127.0.0.1:${port}`;
  let output = '';
  emailProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/index.ts'], {
    cwd: emailServiceDir,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATA_SERVICE_URL: data.url,
      EMAIL_OUTBOX_DIR: outbox,
      EMAIL_TRANSPORT: 'outbox',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  emailProcess.stdout?.on('data', (chunk) => (output += chunk));
  emailProcess.stderr?.on('data', (chunk) => (output += chunk));
  await waitForHealth(emailUrl, emailProcess, () => output);
}, 30_000);

afterAll(async () => {
  if (emailProcess?.pid && emailProcess.exitCode === null) {
    const exited = new Promise((resolve) => emailProcess.once('exit', resolve));
    process.kill(emailProcess.pid, 'SIGTERM');
    await exited;
  }
  await data.close();
});

describe('worker with the real email-service', () => {
  it('writes exactly one .eml when a job is redelivered after a lost ack', async () => {
    const app = buildApp({
      config: configSchema.parse({
        DATA_SERVICE_URL: data.url,
        EMAIL_SERVICE_URL: emailUrl,
        WORKER_POLL_INTERVAL_MS: '20',
      }),
      logger: createLogger({ service: 'worker-service', level: 'silent' }),
    });
    try {
      const { form } = data.addOwnerWithForm({
        title: 'Contact us',
        fields: [{ name: 'name', label: 'Your name', type: 'text', required: true }],
      });
      const job = data.enqueue('send-confirmation-email', { formId: form.id, answers: { name: 'Fay' } });
      data.faults.ackFailures = 1;
      await app.listen({ port: 0, host: '127.0.0.1' });
      await eventually(() => job.status === 'done', 'the redelivered job to be acked');

      expect(job.attempts).toBe(2);
      const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(1);
      expect(readFileSync(join(outbox, files[0] as string), 'utf8')).toContain('Your name: Fay');
      expect(data.emails.get(job.idempotencyKey)).toMatchObject({
        to: 'owner@example.com',
        transport: 'outbox',
      });
      // Both deliveries asked data-service whether the key was sent; the second was told yes.
      expect(data.callsTo('GET', /^\/emails\//)).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});
