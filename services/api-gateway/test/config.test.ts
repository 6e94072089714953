import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

// A folder with no .env files, so only the variables given here count.
const root = mkdtempSync(join(tmpdir(), 'gateway-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, {
    service: 'api-gateway',
    serviceDir: join(root, 'services', 'api-gateway'),
    rootDir: root,
    env,
  });

function problemsOf(env: Record<string, string>) {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`config ${JSON.stringify(env)} was accepted`);
}

describe('api-gateway config', () => {
  it('defaults to port 3000 and the ecosystem port of every sample backend', () => {
    expect(load({}).config).toMatchObject({
      PORT: 3000,
      NODE_ENV: 'development',
      AUTH_SERVICE_URL: 'http://127.0.0.1:3003',
      FORM_SERVICE_URL: 'http://127.0.0.1:3001',
      EMAIL_SERVICE_URL: 'http://127.0.0.1:3002',
      DATA_SERVICE_URL: 'http://127.0.0.1:3004',
      WORKER_SERVICE_URL: 'http://127.0.0.1:3005',
      SCHEDULER_SERVICE_URL: 'http://127.0.0.1:3006',
      UPSTREAM_TIMEOUT_MS: 5000,
      HEALTH_PROBE_TIMEOUT_MS: 1000,
      LOGIN_RATE_LIMIT: 10,
      BODY_LIMIT_BYTES: 102_400,
    });
  });

  it('requires JWT_SECRET when NODE_ENV=production, naming it and the file to set it in', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      { variable: 'JWT_SECRET', message: 'is required but not set', file: 'services/api-gateway/.env' },
    ]);
  });

  it.each([
    ['JWT_SECRET', 'short', 'at least 32'],
    ['NODE_ENV', 'staging', 'staging'],
    ['AUTH_SERVICE_URL', '127.0.0.1:3003', '127.0.0.1:3003'],
    ['FORM_SERVICE_URL', 'file:///etc/passwd', 'file'],
    ['SCHEDULER_SERVICE_URL', 'not a url', 'not a url'],
    ['UPSTREAM_TIMEOUT_MS', 'soon', 'soon'],
    ['UPSTREAM_TIMEOUT_MS', '0', '0'],
    ['HEALTH_PROBE_TIMEOUT_MS', '60000', '60000'],
    ['LOGIN_RATE_LIMIT', '0', '0'],
    ['LOGIN_RATE_LIMIT', '2.5', '2.5'],
    ['BODY_LIMIT_BYTES', '10', '10'],
    ['PORT', '-1', '-1'],
  ])('refuses %s=%s', (variable, value, inMessage) => {
    const [problem, ...others] = problemsOf({ [variable]: value });
    expect(others).toEqual([]);
    expect(problem?.variable).toBe(variable);
    expect(problem?.message).toContain(inMessage);
  });
});
