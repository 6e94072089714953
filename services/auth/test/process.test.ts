import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { closedPortUrl, startService, waitForHealth } from './helpers';

const serviceDir = new URL('..', import.meta.url).pathname;

describe('auth-service as a process', () => {
  it('exits 78 (config error) naming JWT_SECRET when production gets a short one', async () => {
    const service = startService(serviceDir, { NODE_ENV: 'production', JWT_SECRET: 'too-short' });
    onTestFinished(service.stop);
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(78);
    expect(service.stderr()).toContain('config error in auth-service: JWT_SECRET has an invalid value');
    const machineLine = service.stderr().trim().split('\n').at(-1) as string;
    expect(JSON.parse(machineLine)).toMatchObject({ devctl: 'config-error', service: 'auth-service' });
  });

  it('listens on PORT, answers /health, reports data-service down in /ready, and stops on SIGTERM', async () => {
    const auth = await closedPortUrl();
    const service = startService(serviceDir, {
      NODE_ENV: 'test',
      JWT_SECRET: 'process-test-secret-process-test-secret',
      PORT: new URL(auth).port,
      DATA_SERVICE_URL: await closedPortUrl(),
    });
    onTestFinished(service.stop);
    const health = await waitForHealth(auth, service);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      service: 'auth-service',
      pid: service.child.pid,
    });
    const ready = await fetch(`${auth}/ready`);
    expect(ready.status).toBe(503);
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
  });
});
