import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

const emptyDir = mkdtempSync(join(tmpdir(), 'form-config-'));
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, { service: 'form-service', serviceDir: emptyDir, rootDir: emptyDir, env });

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('form-service config', () => {
  it('defaults to port 3001 and data-service on 127.0.0.1:3004', () => {
    const { config } = load({});
    expect(config.PORT).toBe(3001);
    expect(config.DATA_SERVICE_URL).toBe('http://127.0.0.1:3004');
    expect(config.UPSTREAM_TIMEOUT_MS).toBe(5000);
  });

  it.each([
    [{ DATA_SERVICE_URL: 'not a url' }, 'DATA_SERVICE_URL'],
    [{ DATA_SERVICE_URL: 'ftp://127.0.0.1:3004' }, 'DATA_SERVICE_URL'],
    [{ UPSTREAM_TIMEOUT_MS: 'soon' }, 'UPSTREAM_TIMEOUT_MS'],
    [{ PORT: '70000' }, 'PORT'],
  ])('refuses %j', (env, variable) => {
    expect(problemsOf(env)).toEqual([variable]);
  });
});
