import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { generatedRoutes } from '../src/routes/generated';
import { closedPortUrl, startService, waitForHealth } from './helpers';

const serviceDir = new URL('..', import.meta.url).pathname;

describe('api-gateway as a process', () => {
  it('exits 78 (config error) naming JWT_SECRET when production gets a short one', async () => {
    const service = startService(serviceDir, { NODE_ENV: 'production', JWT_SECRET: 'too-short' });
    onTestFinished(service.stop);
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(78);
    expect(service.stderr()).toContain('config error in api-gateway: JWT_SECRET has an invalid value');
  });

  it('listens on PORT, answers /health and /api/health, and stops on SIGTERM', async () => {
    const gateway = await closedPortUrl();
    const nowhere = await closedPortUrl();
    const service = startService(serviceDir, {
      NODE_ENV: 'test',
      JWT_SECRET: 'process-test-secret-process-test-secret',
      PORT: new URL(gateway).port,
      AUTH_SERVICE_URL: nowhere,
      FORM_SERVICE_URL: nowhere,
      EMAIL_SERVICE_URL: nowhere,
      DATA_SERVICE_URL: nowhere,
      WORKER_SERVICE_URL: nowhere,
      SCHEDULER_SERVICE_URL: nowhere,
    });
    onTestFinished(service.stop);
    const health = await waitForHealth(gateway, service);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      service: 'api-gateway',
      pid: service.child.pid,
    });
    const report = await fetch(`${gateway}/api/health`);
    expect(report.status).toBe(200);
    // The six sample backends, and each service that `devctl new service --route` added.
    expect(((await report.json()) as { down: string[] }).down).toHaveLength(6 + generatedRoutes.length);
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
  });
});
