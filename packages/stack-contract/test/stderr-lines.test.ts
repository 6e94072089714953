import { describe, expect, it } from 'vitest';
import {
  configErrorLine,
  lastConfigErrorLine,
  listenErrorLine,
  printedConfigOf,
  structuredLineKind,
} from '../src/index';

describe('the structured stderr lines', () => {
  it('writes the config-error line with its fields in order, and reads it back', () => {
    const line = configErrorLine('auth-service', [
      { name: 'JWT_SECRET', message: 'is required but not set', file: 'services/auth/.env' },
    ]);
    expect(line).toBe(
      '{"devctl":"config-error","service":"auth-service","variables":[{"name":"JWT_SECRET","message":"is required but not set","file":"services/auth/.env"}]}',
    );
    const stderr = `config error in auth-service: JWT_SECRET is required\n${line}\n`;
    expect(lastConfigErrorLine(stderr)?.variables?.[0]?.name).toBe('JWT_SECRET');
  });

  it('writes the listen-error line', () => {
    expect(
      listenErrorLine({ service: 'form-service', host: '127.0.0.1', port: 3001, code: 'EADDRINUSE' }),
    ).toBe(
      '{"devctl":"listen-error","service":"form-service","host":"127.0.0.1","port":3001,"code":"EADDRINUSE"}',
    );
  });

  it.each([
    [{ devctl: 'config-error' }, 'config-error'],
    [{ devctl: 'listen-error' }, 'listen-error'],
    [{ devctl: 'something-else' }, undefined],
    [{ level: 50, msg: 'boom' }, undefined],
    [null, undefined],
    ['config-error', undefined],
  ])('tells %j as %s', (record, kind) => {
    expect(structuredLineKind(record)).toBe(kind);
  });

  it('passes over log lines, broken JSON and other JSON lines', () => {
    expect(lastConfigErrorLine('{"level":60,"msg":"x"}\n{not json\nplain text\n')).toBeUndefined();
  });

  it('takes the printed configuration from the last JSON line with variables', () => {
    const stdout =
      '{"level":30,"msg":"starting"}\n{"service":"a","variables":[{"name":"PORT","value":"1","source":"default"}]}\n';
    expect(printedConfigOf(stdout)?.service).toBe('a');
    expect(printedConfigOf('{"service":"a"}\n')).toBeUndefined();
  });
});
