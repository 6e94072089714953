// The second masking pass of `devctl mcp`: what log lines and evidence may quote verbatim.
import { describe, expect, it } from 'vitest';
import { maskDeep, maskText } from '../src/mcp/mask';

describe('maskText', () => {
  it.each([
    ['DATABASE_URL=postgres://app:hunter2@db:5432/x', 'DATABASE_URL=postgres://app:****@db:5432/x'],
    ['Authorization: Bearer abc.def-123', 'Authorization: Bearer ****'],
    ['{"apiKey":"zzz","name":"PAYMENT_API_KEY"}', '{"apiKey":"****","name":"PAYMENT_API_KEY"}'],
    ['JWT_SECRET=s3cr3t PORT=3000', 'JWT_SECRET=**** PORT=3000'],
    ['password: hunter2', 'password: ****'],
    ['token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl here', 'token **** here'],
  ])('masks %s', (input, expected) => {
    expect(maskText(input)).toBe(expected);
  });

  it.each([
    'set PAYMENT_API_KEY=<value> in services/billing/.env',
    'at boom (services/orders/src/routes/boom.ts:13:9)',
    '2024-01-01T10:00:00: listening on http://127.0.0.1:3001',
    'config error in billing: PAYMENT_API_KEY is required but not set',
    'JWT_SECRET=****',
  ])('leaves %s as it is', (input) => {
    expect(maskText(input)).toBe(input);
  });

  it('masks every string of a nested value', () => {
    expect(maskDeep({ a: ['TOKEN=x1'], b: { c: 'https://u:p@h/' }, n: 1 })).toEqual({
      a: ['TOKEN=****'],
      b: { c: 'https://u:****@h/' },
      n: 1,
    });
  });

  it('handles long lines in linear time (no catastrophic backtracking)', () => {
    // Quadratic patterns take seconds on these; the test would time out rather than pass.
    for (const text of [
      'x'.repeat(200_000),
      'a.'.repeat(100_000),
      'a:'.repeat(100_000),
      'key='.repeat(50_000),
    ]) {
      expect(maskText(text).length).toBeGreaterThan(0);
    }
  }, 10_000);
});
