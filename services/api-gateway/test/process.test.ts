import { once } from 'node:events';
import { isServiceUrlVariable } from '@repo/service-kit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { configSchema } from '../src/config';
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
    // Each backend's URL variable of the gateway's configuration, pointed where nothing listens.
    const upstreams = Object.fromEntries(
      Object.keys(configSchema.shape)
        .filter(isServiceUrlVariable)
        .map((variable) => [variable, nowhere]),
    );
    const service = startService(serviceDir, {
      NODE_ENV: 'test',
      JWT_SECRET: 'process-test-secret-process-test-secret',
      PORT: new URL(gateway).port,
      ...upstreams,
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
    // Every backend the gateway is configured to reach: the samples and each route `devctl new service --route` added.
    expect(((await report.json()) as { down: string[] }).down).toHaveLength(Object.keys(upstreams).length);
    service.child.kill('SIGTERM');
    const [code] = await once(service.child, 'exit');
    expect(code).toBe(0);
  });
});
