import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, ConfigError, formatConfigError, loadConfig } from '../src/config';

function fixture(files: { root?: string; service?: string }) {
  const root = mkdtempSync(join(tmpdir(), 'kit-config-'));
  writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
  const serviceDir = join(root, 'services', 'demo');
  mkdirSync(serviceDir, { recursive: true });
  if (files.root !== undefined) writeFileSync(join(root, '.env'), files.root);
  if (files.service !== undefined) writeFileSync(join(serviceDir, '.env'), files.service);
  return { root, serviceDir };
}

const schema = baseConfigSchema(3999).extend({
  GREETING: z.string().default('hello'),
  API_URL: z.url(),
});

describe('loadConfig', () => {
  it('applies process env > service .env > root .env > default', () => {
    const { serviceDir } = fixture({
      root: 'GREETING=from-root\nAPI_URL=http://root\nLOG_LEVEL=debug\n',
      service: 'GREETING=from-service\nAPI_URL=http://service\n',
    });
    const { config, sources } = loadConfig(schema, {
      service: 'demo-service',
      serviceDir,
      env: { API_URL: 'http://process' },
    });
    expect(config.API_URL).toBe('http://process');
    expect(config.GREETING).toBe('from-service');
    expect(config.LOG_LEVEL).toBe('debug');
    expect(config.PORT).toBe(3999);
    expect(sources).toMatchObject({
      API_URL: 'process',
      GREETING: 'service .env',
      LOG_LEVEL: 'root .env',
      PORT: 'default',
    });
  });

  it('re-reads the .env files on every load, so an edit applies on the next start', () => {
    const { serviceDir } = fixture({ service: 'API_URL=http://first\n' });
    expect(loadConfig(schema, { service: 's', serviceDir, env: {} }).config.API_URL).toBe('http://first');
    writeFileSync(join(serviceDir, '.env'), 'API_URL=http://second\n');
    expect(loadConfig(schema, { service: 's', serviceDir, env: {} }).config.API_URL).toBe('http://second');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'invalid value "eighty"'],
    [{ PORT: '70000' }, 'PORT', 'invalid value "70000"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'invalid value "loud"'],
    [{ API_URL: 'not a url' }, 'API_URL', 'invalid value "not a url"'],
    [{}, 'API_URL', 'is required but not set'],
  ])('rejects %j naming %s', (env, variable, message) => {
    const { serviceDir } = fixture({});
    const base = { API_URL: 'http://ok' };
    const run = () =>
      loadConfig(schema, {
        service: 'demo-service',
        serviceDir,
        env: {
          ...base,
          ...env,
          ...(variable === 'API_URL' && !('API_URL' in env) ? { API_URL: undefined } : {}),
        },
      });
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ variable, file: 'services/demo/.env' });
      expect(problems[0]?.message).toContain(message);
    }
  });

  it('formats one line per problem and one parseable JSON line', () => {
    const error = new ConfigError('demo-service', [
      { variable: 'API_URL', message: 'is required but not set', file: 'services/demo/.env' },
      { variable: 'PORT', message: 'has an invalid value "x"', file: 'services/demo/.env' },
    ]);
    const lines = formatConfigError(error);
    expect(lines[0]).toBe(
      'config error in demo-service: API_URL is required but not set (set it in services/demo/.env)',
    );
    expect(JSON.parse(lines.at(-1) as string)).toEqual({
      devctl: 'config-error',
      service: 'demo-service',
      variables: [
        { name: 'API_URL', message: 'is required but not set', file: 'services/demo/.env' },
        { name: 'PORT', message: 'has an invalid value "x"', file: 'services/demo/.env' },
      ],
    });
  });
});

describe('config errors never print a secret', () => {
  it('masks the rejected value of a secret variable', () => {
    const { serviceDir } = fixture({});
    const secretSchema = baseConfigSchema(3999).extend({ JWT_SECRET: z.string().min(32) });
    try {
      loadConfig(secretSchema, { service: 's', serviceDir, env: { JWT_SECRET: 'too-short-secret' } });
      expect.unreachable();
    } catch (error) {
      const text = formatConfigError(error as ConfigError).join('\n');
      expect(text).toContain('JWT_SECRET has an invalid value "****"');
      expect(text).not.toContain('too-short-secret');
    }
  });
});
