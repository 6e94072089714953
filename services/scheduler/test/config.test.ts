import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

const emptyDir = mkdtempSync(join(tmpdir(), 'scheduler-config-'));
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, { service: 'scheduler-service', serviceDir: emptyDir, rootDir: emptyDir, env });

function problemsOf(env: Record<string, string>) {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('scheduler-service config', () => {
  it('defaults: digest daily at 08:00, purge hourly, 7 days of dead jobs kept', () => {
    expect(load({}).config).toMatchObject({
      PORT: 3006,
      DIGEST_CRON: '0 8 * * *',
      PURGE_CRON: '0 * * * *',
      DEAD_JOB_RETENTION_DAYS: 7,
      DATA_SERVICE_URL: 'http://127.0.0.1:3004',
    });
  });

  it('accepts any expression croner parses, including seconds and nicknames', () => {
    expect(load({ DIGEST_CRON: '@daily', PURGE_CRON: '*/30 * * * * *' }).config).toMatchObject({
      DIGEST_CRON: '@daily',
      PURGE_CRON: '*/30 * * * * *',
    });
  });

  it.each([
    ['DIGEST_CRON', 'every morning'],
    ['DIGEST_CRON', '0 25 * * *'],
    ['PURGE_CRON', '61 * * * *'],
    ['PURGE_CRON', '* * * *'],
  ])('refuses %s=%j with croner’s reason', (variable, value) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems.map((p) => p.variable)).toEqual([variable]);
    expect(problems[0]?.message).toMatch(/^has an invalid value .*CronPattern/);
  });

  it.each([
    [{ DEAD_JOB_RETENTION_DAYS: '0' }, 'DEAD_JOB_RETENTION_DAYS'],
    [{ DATA_SERVICE_URL: 'data-service' }, 'DATA_SERVICE_URL'],
  ])('refuses %j', (env, variable) => {
    expect(problemsOf(env).map((p) => p.variable)).toEqual([variable]);
  });
});
