import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  baseConfigSchema,
  ConfigError,
  describeConfig,
  formatConfigError,
  type LoadedConfig,
  loadConfig,
  mustMatch,
  sharedSettingOf,
} from '../src/config';

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

  it("moves PORT and each <NAME>_SERVICE_URL default to the stack's block; a set value still wins", () => {
    const stackSchema = baseConfigSchema(3003).extend({
      DATA_SERVICE_URL: z.url().default('http://127.0.0.1:3004'),
      EMAIL_SERVICE_URL: z.url().default('http://127.0.0.1:3002'),
      SEARCH_SERVICE_URL: z.url().default('http://search.example:3005'),
      OTHER_URL: z.url().default('http://127.0.0.1:3001'),
    });
    const { serviceDir } = fixture({ service: 'EMAIL_SERVICE_URL=http://127.0.0.1:4002\n' });
    const { config, sources } = loadConfig(stackSchema, {
      service: 'auth-service',
      serviceDir,
      env: { DEVSTACK_PORT_OFFSET: '200' },
    });
    expect(config.PORT).toBe(3203);
    expect(config.DATA_SERVICE_URL).toBe('http://127.0.0.1:3204');
    // Set in a .env: kept as written.
    expect(config.EMAIL_SERVICE_URL).toBe('http://127.0.0.1:4002');
    // Another host, or not a service URL variable: not this stack's, left alone.
    expect(config.SEARCH_SERVICE_URL).toBe('http://search.example:3005');
    expect(config.OTHER_URL).toBe('http://127.0.0.1:3001');
    expect(sources).toMatchObject({ PORT: 'default', DATA_SERVICE_URL: 'default' });
    // Block 0 (no offset): the documented defaults.
    const plain = loadConfig(stackSchema, { service: 'auth-service', serviceDir, env: {} });
    expect(plain.config.PORT).toBe(3003);
    expect(plain.config.DATA_SERVICE_URL).toBe('http://127.0.0.1:3004');
  });

  it("gives another checkout's stack a database schema of its own, named after its namespace", () => {
    const dataSchema = baseConfigSchema(3004).extend({ DATABASE_SCHEMA: z.string().optional() });
    const { serviceDir } = fixture({});
    const load = (env: Record<string, string>) =>
      loadConfig(dataSchema, { service: 'data-service', serviceDir, env }).config.DATABASE_SCHEMA;
    expect(load({ DEVSTACK_PORT_OFFSET: '100', DEVSTACK_NAMESPACE: 'demo-wt-a-1f2e' })).toBe(
      'demo_wt_a_1f2e',
    );
    // The first checkout keeps `public` (unset), and a value set on purpose wins (shared data).
    expect(load({ DEVSTACK_PORT_OFFSET: '0', DEVSTACK_NAMESPACE: 'demo' })).toBeUndefined();
    expect(
      load({
        DEVSTACK_PORT_OFFSET: '100',
        DEVSTACK_NAMESPACE: 'demo-wt-a-1f2e',
        DATABASE_SCHEMA: 'public',
      }),
    ).toBe('public');
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

describe('describeConfig: what --print-config prints', () => {
  const KEY_A = 'a'.repeat(40);
  const KEY_B = 'b'.repeat(40);
  const sha8 = (value: string) => `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
  // As the services declare it: the outermost field schema, then .extend() and .superRefine().
  const sharedSchema = baseConfigSchema(3999)
    .extend({
      JWT_SECRET: mustMatch('jwt-signing-key', z.string().min(32).optional(), { devSecret: 'jwt-secret' }),
      API_TOKEN: z.string().optional(),
      GREETING: z.string().default('hello'),
    })
    .extend({ EXTRA: z.string().default('x') })
    .superRefine(() => {});

  const describe_ = (env: Record<string, string>, secretFile?: string) => {
    const { root, serviceDir } = fixture({});
    if (secretFile !== undefined) {
      mkdirSync(join(root, '.secrets'));
      writeFileSync(join(root, '.secrets', 'jwt-secret'), `${secretFile}\n`);
    }
    const loaded = loadConfig(sharedSchema, { service: 's', serviceDir, rootDir: root, env });
    const variables = describeConfig(sharedSchema, loaded as LoadedConfig<Record<string, unknown>>);
    return Object.fromEntries(variables.map((v) => [v.name, v]));
  };

  it.each([
    [
      'a set shared secret: masked, hashed, its group',
      { JWT_SECRET: KEY_A },
      undefined,
      { value: '****', hash: sha8(KEY_A), mustMatch: 'jwt-signing-key', fallback: '.secrets/jwt-secret' },
    ],
    [
      'unset, the dev secret exists: its hash and file',
      {},
      KEY_B,
      { value: null, hash: sha8(KEY_B), fallback: '.secrets/jwt-secret' },
    ],
    [
      'unset, no dev secret yet: the file, no hash',
      {},
      undefined,
      { value: null, fallback: '.secrets/jwt-secret' },
    ],
    [
      'unset, a dev secret too short to be used: no hash',
      {},
      'short',
      { value: null, fallback: '.secrets/jwt-secret' },
    ],
  ])('%s', (_what, env, secretFile, expected) => {
    const variables = describe_(env, secretFile);
    expect(variables.JWT_SECRET).toMatchObject({ mustMatch: 'jwt-signing-key', ...expected });
    if (!('hash' in expected)) expect(variables.JWT_SECRET?.hash).toBeUndefined();
  });

  it('hashes every secret by name, never a plain value, and prints no secret', () => {
    const variables = describe_({ JWT_SECRET: KEY_A, API_TOKEN: 'token-value-123', GREETING: 'hi' });
    expect(variables.API_TOKEN).toEqual({
      name: 'API_TOKEN',
      value: '****',
      source: 'process',
      hash: sha8('token-value-123'),
    });
    expect(variables.GREETING).toEqual({
      name: 'GREETING',
      value: 'hi',
      source: 'process',
      default: 'hello',
    });
    expect(variables.EXTRA).toEqual({ name: 'EXTRA', value: 'x', source: 'default', default: 'x' });
    // The schema's default as text, so a .env line that repeats it can be told from a change.
    expect(variables.PORT).toMatchObject({ value: '3999', source: 'default', default: '3999' });
    expect(variables.API_TOKEN?.default).toBeUndefined();
    const text = JSON.stringify(variables);
    expect(text).not.toContain(KEY_A);
    expect(text).not.toContain('token-value-123');
  });

  it('finds the declaration only on the field it was made on', () => {
    expect(sharedSettingOf(sharedSchema.shape.JWT_SECRET)).toEqual({
      group: 'jwt-signing-key',
      devSecret: 'jwt-secret',
    });
    expect(sharedSettingOf(sharedSchema.shape.API_TOKEN)).toBeUndefined();
    expect(sharedSettingOf(undefined)).toBeUndefined();
  });
});
