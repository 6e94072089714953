import { type ChildProcess, spawn } from 'node:child_process';
import { createLogger, isServiceUrlVariable } from '@repo/service-kit';
import { closedPortUrl, type Stub, serviceEntry, startStub } from '@repo/test-utils';

export { closedPortUrl, type Stub, startStub };

import { SignJWT } from 'jose';
import { buildApp } from '../src/app';
import { ISSUER } from '../src/authenticate';
import { configSchema } from '../src/config';

export const silentLogger = () => createLogger({ service: 'test', level: 'silent' });

export const TEST_SECRET = 'gateway-test-secret-gateway-test-secret';

/** The gateway with every upstream URL pointing at a closed port unless given. */
export async function buildGateway(env: Record<string, string>) {
  const nowhere = await closedPortUrl();
  const config = configSchema.parse({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    // Every backend's URL variable (the samples' and those devctl new service added) points where
    // nothing listens unless the test says otherwise: never at a running stack's ports.
    ...Object.fromEntries(
      Object.keys(configSchema.shape)
        .filter(isServiceUrlVariable)
        .map((variable) => [variable, nowhere]),
    ),
    ...env,
  });
  return buildApp({ config, logger: silentLogger(), jwtSecret: TEST_SECRET });
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const key = (secret: string) => new TextEncoder().encode(secret);

/** Tokens as auth-service issues them, and every kind the gateway must refuse. */
export const tokens = {
  valid: (sub: string, email = `${sub}@example.org`, secret = TEST_SECRET) =>
    new SignJWT({ email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key(secret)),
  expired: (sub: string) => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    return new SignJWT({ email: `${sub}@example.org` })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setIssuedAt(past)
      .setExpirationTime(past + 60)
      .sign(key(TEST_SECRET));
  },
  wrongSignature: (sub: string) =>
    tokens.valid(sub, `${sub}@example.org`, 'another-secret-another-secret-another'),
  wrongIssuer: (sub: string) =>
    new SignJWT({ email: `${sub}@example.org` })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer('someone-else')
      .setExpirationTime('1h')
      .sign(key(TEST_SECRET)),
  noExpiry: (sub: string) =>
    new SignJWT({ email: `${sub}@example.org` })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .sign(key(TEST_SECRET)),
  /** Unsigned: `alg: none` and an empty signature. */
  algNone: async (sub: string) =>
    `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub, email: `${sub}@example.org`, iss: ISSUER, exp: Math.floor(Date.now() / 1000) + 3600 })}.`,
};

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A service's real entry (its fresh build, else src/index.ts through tsx: test-utils' serviceEntry)
 * in its own process, with only the variables given (plus PATH). `stop` kills it by pid if it still runs.
 */
export function startService(dir: string, env: Record<string, string>) {
  const child = spawn(process.execPath, serviceEntry(dir), {
    cwd: dir,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return {
    child,
    stderr: () => stderr,
    stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid)
        process.kill(child.pid, 'SIGKILL');
    },
  };
}

/**
 * Polls `<url>/health` until it answers; fails early, with its stderr, if the process exits. The
 * bound is 50 s, under the tests' 60 s: 200 tries (about 20 s) were not enough for a service started
 * from its TypeScript while `pnpm test` ran the other packages on the same 2 cores (CI).
 */
export async function waitForHealth(url: string, service: { child: ChildProcess; stderr: () => string }) {
  const deadline = Date.now() + 50_000;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`service exited with ${service.child.exitCode}: ${service.stderr()}`);
    }
    try {
      return await fetch(`${url}/health`);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url}/health never answered within 50 s: ${service.stderr()}`);
}
