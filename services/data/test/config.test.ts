import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';
import { tempDir } from './helpers';

const dir = tempDir('data-config-');

function load(env: Record<string, string>) {
  return loadConfig(configSchema, { service: 'data-service', serviceDir: dir.dir, rootDir: dir.dir, env });
}

function problems(env: Record<string, string>): Record<string, string> {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError)
      return Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('data-service configuration', () => {
  it('defaults to the embedded database on port 3004', () => {
    const { config } = load({});
    expect(config).toMatchObject({
      PORT: 3004,
      DATABASE_FILE: 'data/app.db',
      JOB_MAX_ATTEMPTS: 5,
      JOB_LEASE_MS: 30_000,
      JOB_BACKOFF_BASE_MS: 1000,
      JOB_BACKOFF_MAX_MS: 300_000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each(['postgres://app:pw@127.0.0.1:5432/devstack', 'postgresql://db.internal/devstack?sslmode=require'])(
    'accepts the PostgreSQL URL %s',
    (url) => {
      expect(load({ DATABASE_URL: url }).config.DATABASE_URL).toBe(url);
    },
  );

  it.each([
    ['DATABASE_URL', 'mysql://root@127.0.0.1/app', /postgres:\/\/ or postgresql:\/\//],
    ['DATABASE_URL', 'not a url', /postgres:\/\/ or postgresql:\/\//],
    ['DATABASE_URL', 'postgres://127.0.0.1:5432', /postgres:\/\/ or postgresql:\/\//],
    ['JOB_MAX_ATTEMPTS', 'five', /invalid value "five"/],
    ['JOB_MAX_ATTEMPTS', '0', /invalid value "0"/],
    ['JOB_LEASE_MS', '10', /invalid value "10"/],
    ['JOB_BACKOFF_BASE_MS', '1.5', /invalid value "1.5"/],
    ['DATABASE_POOL_MAX', '-1', /invalid value "-1"/],
    ['DATABASE_BUSY_TIMEOUT_MS', 'forever', /invalid value "forever"/],
    ['DATABASE_SQLITE_SYNCHRONOUS', 'OFF', /invalid value "OFF"/],
    ['PORT', '70000', /invalid value "70000"/],
  ])('refuses %s=%s, naming the variable', (variable, value, message) => {
    const found = problems({ [variable]: value });
    expect(Object.keys(found)).toEqual([variable]);
    expect(found[variable]).toMatch(message);
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
});
