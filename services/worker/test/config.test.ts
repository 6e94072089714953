import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

const emptyDir = mkdtempSync(join(tmpdir(), 'worker-config-'));
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, { service: 'worker-service', serviceDir: emptyDir, rootDir: emptyDir, env });

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('worker-service config', () => {
  it('defaults: port 3005, upstreams on 127.0.0.1, 500 ms polls, 30 s leases', () => {
    expect(load({}).config).toMatchObject({
      PORT: 3005,
      DATA_SERVICE_URL: 'http://127.0.0.1:3004',
      EMAIL_SERVICE_URL: 'http://127.0.0.1:3002',
      WORKER_POLL_INTERVAL_MS: 500,
      WORKER_BATCH_SIZE: 5,
      WORKER_LEASE_MS: 30_000,
    });
    expect(load({}).config.WORKER_NAME).toBeUndefined();
  });

  it.each([
    [{ WORKER_POLL_INTERVAL_MS: '0' }, 'WORKER_POLL_INTERVAL_MS'],
    [{ WORKER_POLL_INTERVAL_MS: 'often' }, 'WORKER_POLL_INTERVAL_MS'],
    [{ WORKER_BATCH_SIZE: '0' }, 'WORKER_BATCH_SIZE'],
    [{ WORKER_BATCH_SIZE: '2.5' }, 'WORKER_BATCH_SIZE'],
    [{ WORKER_LEASE_MS: '10' }, 'WORKER_LEASE_MS'],
    [{ EMAIL_SERVICE_URL: 'localhost:3002' }, 'EMAIL_SERVICE_URL'],
    [{ DATA_SERVICE_URL: 'nope' }, 'DATA_SERVICE_URL'],
  ])('refuses %j', (env, variable) => {
    expect(problemsOf(env)).toEqual([variable]);
  });
});
