// The gateway says in its log why it refused a token (a 401 otherwise leaves only `statusCode:
// 401` behind, and a JWT_SECRET that differs from auth-service's goes unseen), at warn, without
// the token.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type { Logger } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import { closedPortUrl, TEST_SECRET, tokens } from './helpers';

// pino as the kit uses it (the gateway does not depend on it directly).
const pino = createRequire(new URL('../node_modules/@repo/service-kit/package.json', import.meta.url))(
  'pino',
) as (options: { level: string }, stream: Writable) => Logger;

async function gatewayWithLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const nowhere = await closedPortUrl();
  const config = configSchema.parse({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    AUTH_SERVICE_URL: nowhere,
    FORM_SERVICE_URL: nowhere,
    EMAIL_SERVICE_URL: nowhere,
    DATA_SERVICE_URL: nowhere,
    WORKER_SERVICE_URL: nowhere,
    SCHEDULER_SERVICE_URL: nowhere,
  });
  const logger = pino({ level: 'info' }, sink);
  const app = await buildApp({ config, logger, jwtSecret: TEST_SECRET });
  return { app, lines };
}

describe('a refused token is logged with its reason, never the token', () => {
  it.each([
    [
      'signed with another key',
      () => tokens.wrongSignature('u-ann'),
      /token refused: invalid token \(signature does not match\): .*JWT_SECRET/,
    ],
    // tokens.expired: issued 2 h ago to live 60 s; its lifetime is in the line (diagnose reads it).
    [
      'expired',
      () => tokens.expired('u-ann'),
      /token refused: token expired, log in again \(the token was issued to live 60 s\)$/,
    ],
    ['unsigned (alg none)', () => tokens.algNone('u-ann'), /token refused: invalid token/],
  ])('%s', async (_what, make, message) => {
    const { app, lines } = await gatewayWithLog();
    const token = await make();
    const res = await app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(401);
    const refusals = lines.filter((line) => String(line.msg).startsWith('token refused'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.level).toBe(40);
    expect(String(refusals[0]?.msg)).toMatch(message);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(token);
    for (const part of token.split('.').filter((p) => p.length > 8)) expect(text).not.toContain(part);
    await app.close();
  });

  it('a request without a token is a 401 but no refusal line (nothing was refused)', async () => {
    const { app, lines } = await gatewayWithLog();
    const res = await app.inject({ method: 'GET', url: '/api/auth/me' });
    expect(res.statusCode).toBe(401);
    expect(lines.filter((line) => String(line.msg).startsWith('token refused'))).toHaveLength(0);
    await app.close();
  });
});
