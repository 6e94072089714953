import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

// A folder with no .env files, so only the variables given here count.
const root = mkdtempSync(join(tmpdir(), 'auth-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, {
    service: 'auth-service',
    serviceDir: join(root, 'services', 'auth'),
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

describe('auth-service config', () => {
  it('defaults to port 3003, data-service on 3004, a one-hour token, no secret in development', () => {
    const { config } = load({});
    expect(config).toMatchObject({
      PORT: 3003,
      NODE_ENV: 'development',
      DATA_SERVICE_URL: 'http://127.0.0.1:3004',
      JWT_TTL: 3600,
      UPSTREAM_TIMEOUT_MS: 5000,
      SCRYPT_COST: 16_384,
    });
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it.each([
    ['15m', 900],
    ['90s', 90],
    ['7d', 604_800],
  ])('reads JWT_TTL=%s as %i seconds', (ttl, seconds) => {
    expect(load({ JWT_TTL: ttl }).config.JWT_TTL).toBe(seconds);
  });

  it('requires JWT_SECRET when NODE_ENV=production, naming it and the file to set it in', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      { variable: 'JWT_SECRET', message: 'is required but not set', file: 'services/auth/.env' },
    ]);
    expect(load({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) }).config.JWT_SECRET).toBe(
      's'.repeat(32),
    );
  });

  it('lets tests lower SCRYPT_COST, but not production', () => {
    expect(load({ SCRYPT_COST: '1024' }).config.SCRYPT_COST).toBe(1024);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), SCRYPT_COST: '1024' })).toEqual([
      expect.objectContaining({
        variable: 'SCRYPT_COST',
        message: expect.stringContaining('at least 16384'),
      }),
    ]);
    expect(
      load({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), SCRYPT_COST: '65536' }).config.SCRYPT_COST,
    ).toBe(65_536);
  });

  it.each([
    ['JWT_SECRET', 'too-short-secret', 'at least 32'],
    ['SCRYPT_COST', '3000', 'power of two'],
    ['SCRYPT_COST', '512', '512'],
    ['SCRYPT_COST', String(2 ** 21), String(2 ** 21)],
    ['JWT_TTL', 'forever', 'duration'],
    ['JWT_TTL', '0h', 'duration'],
    ['JWT_TTL', '3600', 'duration'],
    ['NODE_ENV', 'prod', 'prod'],
    ['DATA_SERVICE_URL', 'localhost:3004', 'localhost:3004'],
    ['DATA_SERVICE_URL', 'ftp://127.0.0.1:3004', 'ftp'],
    ['UPSTREAM_TIMEOUT_MS', '10', '10'],
    ['PORT', '70000', '70000'],
  ])('refuses %s=%s', (variable, value, inMessage) => {
    const [problem, ...others] = problemsOf({ [variable]: value });
    expect(others).toEqual([]);
    expect(problem?.variable).toBe(variable);
    expect(problem?.message).toContain(inMessage);
  });
});
