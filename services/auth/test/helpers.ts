import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createLogger } from '@repo/service-kit';
import { closedPortUrl, type Stub, serviceEntry, startStub } from '@repo/test-utils';

export { closedPortUrl, type Stub, startStub };

import { SignJWT } from 'jose';
import { configSchema } from '../src/config';
import { ISSUER } from '../src/tokens';

export const silentLogger = () => createLogger({ service: 'test', level: 'silent' });

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * scrypt's lowest accepted cost (N=1024: a sixteenth of the default's CPU per hash). Tests that do
 * not test the hashing itself use it: at the default cost the hashes were most of this package's
 * test CPU. routes.test.ts and password.test.ts keep the default.
 */
export const CHEAP_SCRYPT_COST = '1024';

/** A config as the schema resolves it from these variables (with the cheap scrypt cost unless given). */
export const testConfig = (env: Record<string, string> = {}) =>
  configSchema.parse({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, SCRYPT_COST: CHEAP_SCRYPT_COST, ...env });

/** The same with the default (production) scrypt cost, for tests of the stored hash. */
export const defaultCostConfig = (env: Record<string, string> = {}) =>
  configSchema.parse({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, ...env });

interface StoredUser {
  id: string;
  email: string;
  passwordHash: string;
  createdAt: string;
}

/** data-service's `/users` routes as docs/internal-api.md describes them, in memory. */
export function startDataServiceStub() {
  const users = new Map<string, StoredUser>();
  const byEmail = (email: string) =>
    [...users.values()].find((u) => u.email.toLowerCase() === email.toLowerCase());
  return startStub((app) => {
    app.post('/users', async (req, reply) => {
      const { email, passwordHash } = req.body as { email: string; passwordHash: string };
      if (byEmail(email)) return reply.code(409).send({ message: `a user with email ${email} exists` });
      const user = { id: randomUUID(), email, passwordHash, createdAt: new Date().toISOString() };
      users.set(user.id, user);
      return reply.code(201).send({ id: user.id, email, createdAt: user.createdAt });
    });
    app.get('/users/by-email/:email', async (req, reply) => {
      const user = byEmail((req.params as { email: string }).email);
      return user ? user : reply.code(404).send({ message: 'user not found' });
    });
    app.get('/users/:id', async (req, reply) => {
      const user = users.get((req.params as { id: string }).id);
      return user
        ? { id: user.id, email: user.email, createdAt: user.createdAt }
        : reply.code(404).send({ message: 'user not found' });
    });
  }).then((stub) => ({ ...stub, users }));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens of every kind a verifier must refuse (and one it must accept). */
export const tokens = {
  valid: (sub: string, email: string, secret = TEST_SECRET) =>
    new SignJWT({ email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret)),
  expired: (sub: string, email: string) => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    return new SignJWT({ email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setIssuedAt(past)
      .setExpirationTime(past + 60)
      .sign(new TextEncoder().encode(TEST_SECRET));
  },
  wrongIssuer: (sub: string, email: string) =>
    new SignJWT({ email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer('someone-else')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET)),
  /** Unsigned: `alg: none` and an empty signature. */
  algNone: (sub: string, email: string) =>
    `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub, email, iss: ISSUER, exp: Math.floor(Date.now() / 1000) + 3600 })}.`,
};

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
