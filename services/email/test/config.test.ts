import { ConfigError, loadConfig } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';
import { tempDir } from './helpers';

const emptyDir = tempDir('email-config-');
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, { service: 'email-service', serviceDir: emptyDir, rootDir: emptyDir, env });

function problemsOf(env: Record<string, string>) {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('email-service config', () => {
  it('defaults to the outbox transport, folder and sender', () => {
    const { config } = load({});
    expect(config).toMatchObject({
      PORT: 3002,
      EMAIL_TRANSPORT: 'outbox',
      EMAIL_OUTBOX_DIR: 'outbox',
      EMAIL_FROM: 'devstack <no-reply@devstack.local>',
      DATA_SERVICE_URL: 'http://127.0.0.1:3004',
      SMTP_SECURE: false,
    });
  });

  it('refuses smtp without SMTP_HOST and SMTP_PORT, naming both', () => {
    const problems = problemsOf({ EMAIL_TRANSPORT: 'smtp' });
    expect(problems.map((p) => p.variable)).toEqual(['SMTP_HOST', 'SMTP_PORT']);
    expect(problems[0]?.message).toBe('is required but not set');
  });

  it('refuses smtp with only a host, naming SMTP_PORT', () => {
    expect(problemsOf({ EMAIL_TRANSPORT: 'smtp', SMTP_HOST: 'mail.local' }).map((p) => p.variable)).toEqual([
      'SMTP_PORT',
    ]);
  });

  it('accepts smtp with host and port', () => {
    const { config } = load({
      EMAIL_TRANSPORT: 'smtp',
      SMTP_HOST: 'mail.local',
      SMTP_PORT: '2525',
      SMTP_SECURE: 'true',
    });
    expect(config).toMatchObject({ SMTP_HOST: 'mail.local', SMTP_PORT: 2525, SMTP_SECURE: true });
  });

  it.each([
    [{ EMAIL_TRANSPORT: 'carrier-pigeon' }, 'EMAIL_TRANSPORT'],
    [{ EMAIL_FROM: 'nobody' }, 'EMAIL_FROM'],
    [{ EMAIL_FROM: 'a@example.com, b@example.com' }, 'EMAIL_FROM'],
    [{ SMTP_PORT: 'twenty-five' }, 'SMTP_PORT'],
    [{ SMTP_SECURE: 'maybe' }, 'SMTP_SECURE'],
    [{ SMTP_USER: 'mailer' }, 'SMTP_PASSWORD'],
    [{ DATA_SERVICE_URL: 'data-service:3004' }, 'DATA_SERVICE_URL'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(problemsOf(env).map((p) => p.variable)).toEqual([variable]);
  });
});
