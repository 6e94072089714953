import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { serviceUrlVariable } from '@repo/service-kit';
import { serviceEntry } from '@repo/test-utils';
import { describe, expect, it, onTestFinished } from 'vitest';
import { generatedRoutes } from '../src/routes/generated';

const serviceDir = new URL('..', import.meta.url).pathname;

/** A port the OS just handed out and that was closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The gateway's real entry (its fresh build, else src/index.ts through tsx: serviceEntry), killed by pid at the end. */
function startGateway(env: Record<string, string>) {
  const child = spawn(process.execPath, serviceEntry(serviceDir), {
    cwd: serviceDir,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  });
  return { child, stderr: () => stderr };
}

describe('api-gateway as a process', () => {
  it('exits 78 (config error) naming JWT_SECRET when production gets a short one', async () => {
    const gateway = startGateway({ NODE_ENV: 'production', JWT_SECRET: 'too-short' });
    const [code] = await once(gateway.child, 'exit');
    expect(code).toBe(78);
    expect(gateway.stderr()).toContain('config error in api-gateway: JWT_SECRET has an invalid value');
  });

  it('listens on PORT, answers /health and /api/health, and stops on SIGTERM', async () => {
    const port = await closedPort();
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const gateway = startGateway({
      NODE_ENV: 'test',
      JWT_SECRET: 'process-test-secret-process-test-secret',
      PORT: String(port),
      // Every generated route's service points where nothing listens, never at the stack's ports.
      ...Object.fromEntries(generatedRoutes.map((route) => [serviceUrlVariable(route.service), nowhere])),
    });
    let health: Response | undefined;
    for (let attempt = 0; attempt < 300 && !health; attempt++) {
      if (gateway.child.exitCode !== null) throw new Error(`gateway exited: ${gateway.stderr()}`);
      health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await health?.json()).toMatchObject({
      status: 'ok',
      service: 'api-gateway',
      pid: gateway.child.pid,
    });
    const report = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(report.status).toBe(200);
    const body = (await report.json()) as { down: string[]; services: Record<string, unknown> };
    expect(Object.keys(body.services).sort()).toEqual(
      ['api-gateway', ...generatedRoutes.map((route) => route.service)].sort(),
    );
    expect(body.down).toHaveLength(generatedRoutes.length);
    gateway.child.kill('SIGTERM');
    const [code] = await once(gateway.child, 'exit');
    expect(code).toBe(0);
  });
});
