// Security defaults of the stack as a developer runs it: the seven services under a real PM2
// (private PM2_HOME, a generated copy of ecosystem.config.js on free ports, which sets no HOST and
// no LOGIN_RATE_LIMIT, so the services' own defaults apply), with their real log files.
// - every service listens on 127.0.0.1 only (read from /proc/net/tcp, not from its logs);
// - protected routes need a valid token;
// - login is rate limited (429);
// - passwords, password hashes, tokens and the JWT secret never reach a log, on the happy path and
//   on the error path (data-service down), even at LOG_LEVEL=trace;
// - devctl masks the secret in env, status and diagnose;
// - .env files, secrets, logs, the database and the outbox are ignored by git.
// devctl acting only inside its namespace is tested by devctl itself: packages/devctl/test/namespace.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, waitForHttp } from '@repo/test-utils';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_JOBS_ENV } from '../src/ecosystem';
import { call } from '../src/http';
import { createPm2Stack, type Pm2Stack } from '../src/pm2';
import { listeningSockets } from '../src/proc-net';

let stack: Pm2Stack;
let gateway = '';
const secrets = new Set<string>();
const password = 'Sup3r-Secret-Passw0rd!';
const email = `security-${Date.now()}@example.com`;
let token = '';

beforeAll(async () => {
  stack = await createPm2Stack({ logLevel: 'trace', envFor: NO_JOBS_ENV });
  const started = await stack.pm2(['start', stack.ecosystem.file]);
  expect(started.code, started.stderr + started.stdout).toBe(0);
  await stack.waitHealthy();
  gateway = stack.ecosystem.gatewayUrl;
  secrets.add(stack.ecosystem.jwtSecret);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

/** Every line PM2 wrote for every app so far. */
function allLogs(): string {
  return Object.values(stack.ecosystem.logFiles)
    .map((files) => {
      const read = (file: string) => {
        try {
          return readFileSync(file, 'utf8');
        } catch {
          return '';
        }
      };
      return `${read(files.out)}\n${read(files.err)}`;
    })
    .join('\n');
}

function expectNoSecretInLogs() {
  const logs = allLogs();
  expect(logs.length, 'the services wrote no log at all: the check would prove nothing').toBeGreaterThan(
    1000,
  );
  for (const secret of secrets) {
    const at = logs.indexOf(secret);
    expect(
      at,
      `a secret (${secret.slice(0, 6)}...) is in a log: ...${logs.slice(Math.max(0, at - 300), at + 100)}`,
    ).toBe(-1);
  }
}

describe('security defaults of the running stack', () => {
  it('every service listens on 127.0.0.1 only, on its port', async () => {
    const processes = await stack.list();
    for (const name of stack.ecosystem.services) {
      const pid = processes.find((p) => p.name === name)?.pid;
      expect(pid, `PM2 lists no process of ${name}`).toBeGreaterThan(0);
      const sockets = listeningSockets(pid as number);
      expect(sockets, `${name} (pid ${pid})`).toEqual([
        { family: 'IPv4', address: '127.0.0.1', port: stack.ecosystem.ports[name] },
      ]);
    }
  });

  it('protected routes need a valid token', async () => {
    const signup = await call<{ token: string }>(gateway, 'POST', '/api/auth/signup', {
      body: { email, password },
    });
    expect(signup.status, signup.describe).toBe(201);
    token = signup.body.token;
    secrets
      .add(password)
      .add(token)
      .add(token.split('.')[2] as string);
    const forged = await new SignJWT({ email })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('someone')
      .setIssuer('devstack-auth')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    const form = await call<{ id: string }>(gateway, 'POST', '/api/forms', {
      token,
      body: { title: 'Secure', fields: [{ name: 'a', label: 'A', type: 'text', required: true }] },
    });
    expect(form.status, form.describe).toBe(201);
    for (const [method, path] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/forms'],
      ['POST', '/api/forms'],
      ['GET', `/api/forms/${form.body.id}/submissions`],
    ] as const) {
      const body = method === 'POST' ? { title: 'x', fields: [] } : undefined;
      const anonymous = await call(gateway, method, path, { body });
      expect(anonymous.status, anonymous.describe).toBe(401);
      const withForged = await call(gateway, method, path, { body, token: forged });
      expect(withForged.status, withForged.describe).toBe(401);
    }
    const me = await call(gateway, 'GET', '/api/auth/me', { token });
    expect(me.status, me.describe).toBe(200);
  });

  it('login is rate limited per client and email: 429 after 10 attempts, another email unaffected', async () => {
    const statuses: number[] = [];
    let last = await call<{ message?: string }>(gateway, 'POST', '/api/auth/login', {
      body: { email, password: 'wrong password 0' },
    });
    statuses.push(last.status);
    for (let attempt = 1; attempt < 12; attempt++) {
      last = await call(gateway, 'POST', '/api/auth/login', {
        body: { email, password: `wrong password ${attempt}` },
      });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10), statuses.join(',')).toEqual(Array(10).fill(401));
    expect(statuses.slice(10), statuses.join(',')).toEqual([429, 429]);
    expect(last.body.message, last.describe).toMatch(/too many login attempts/);
    const other = await call(gateway, 'POST', '/api/auth/login', {
      body: { email: `other-${email}`, password: 'wrong password' },
    });
    expect(other.status, other.describe).toBe(401);
  });

  it('passwords, hashes, tokens and the JWT secret never reach a log, even at trace level', async () => {
    const login = await call<{ token: string }>(gateway, 'POST', '/api/auth/login', {
      body: { email: `second-${email}`, password: 'not yet signed up' },
    });
    expect(login.status, login.describe).toBe(401);
    const second = await call<{ token: string }>(gateway, 'POST', '/api/auth/signup', {
      body: { email: `second-${email}`, password: 'Another-Secret-42' },
    });
    expect(second.status, second.describe).toBe(201);
    secrets.add('Another-Secret-42').add(second.body.token);
    const relogin = await call<{ token: string }>(gateway, 'POST', '/api/auth/login', {
      body: { email: `second-${email}`, password: 'Another-Secret-42' },
    });
    expect(relogin.status, relogin.describe).toBe(200);
    secrets.add(relogin.body.token);
    await call(gateway, 'GET', '/api/auth/me', {
      token: relogin.body.token,
      headers: { cookie: 'session=cookie-secret-123' },
    });
    secrets.add('cookie-secret-123');
    const stored = await call<{ passwordHash: string }>(
      stack.ecosystem.urls['data-service'] as string,
      'GET',
      `/users/by-email/${encodeURIComponent(email)}`,
    );
    secrets.add(stored.body.passwordHash);
    secrets.add(stored.body.passwordHash.split('$').at(-1) as string);
    expectNoSecretInLogs();
  });

  it('...nor on the error path, while data-service is down', async () => {
    const stopped = await stack.pm2(['stop', 'data-service']);
    expect(stopped.code, stopped.stderr).toBe(0);
    try {
      const signup = await call(gateway, 'POST', '/api/auth/signup', {
        body: { email: `down-${email}`, password: 'Secret-While-Down-7' },
      });
      expect(signup.status, signup.describe).toBeGreaterThanOrEqual(502);
      const login = await call(gateway, 'POST', '/api/auth/login', { body: { email, password } });
      expect(login.status, login.describe).toBeGreaterThanOrEqual(429);
      const me = await call(gateway, 'GET', '/api/auth/me', { token });
      expect(me.status, me.describe).toBeGreaterThanOrEqual(502);
      secrets.add('Secret-While-Down-7');
    } finally {
      await stack.pm2(['start', 'data-service']);
      await waitForHttp(`${stack.ecosystem.urls['data-service']}/health`, { timeoutMs: 90_000 });
    }
    // The failures were logged (so the check below reads real error lines).
    expect(allLogs()).toMatch(/data-service unreachable|ECONNREFUSED/);
    expectNoSecretInLogs();
  });

  it('devctl masks the JWT secret in env, status and diagnose', async () => {
    const env = await stack.devctl(['env', 'auth-service', '--json']);
    expect(env.code, env.stderr).toBe(0);
    const { services } = JSON.parse(env.stdout) as {
      services: { name: string; variables: { name: string; value: string | null }[] }[];
    };
    const variable = services[0]?.variables.find((v) => v.name === 'JWT_SECRET');
    expect(variable?.value, env.stdout).toEqual(expect.any(String));
    expect(variable?.value).not.toBe(stack.ecosystem.jwtSecret);
    for (const args of [
      ['env', '--json'],
      ['env'],
      ['status', '--json'],
      ['status'],
      ['diagnose', '--json'],
      ['diagnose'],
    ]) {
      const result = await stack.devctl(args);
      for (const secret of secrets) {
        expect(`${result.stdout}${result.stderr}`, `devctl ${args.join(' ')} printed a secret`).not.toContain(
          secret,
        );
      }
    }
  });
});

describe('git ignores what must never be committed', () => {
  const root = repoRoot();
  const ignored = (path: string) => {
    try {
      execFileSync('git', ['check-ignore', '--quiet', '--no-index', path], { cwd: root, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  it('.env files, secrets, logs, the embedded database and the outbox are ignored', () => {
    const mustBeIgnored = [
      '.env',
      '.env.local',
      '.env.production',
      'services/auth/.env',
      'services/data/.env.development',
      'apps/web/.env.local',
      '.secrets/jwt-secret',
      'services/auth/.secrets/jwt-secret',
      'services/data/data/app.db',
      'services/data/data/app.db-wal',
      'services/email/outbox/submission_1.eml',
      'services/form/logs/out.log',
      'services/form/logs/error.log',
      'services/form/logs/out.log.1',
      join('packages', 'devctl', 'logs', 'x.log'),
    ];
    expect(mustBeIgnored.filter((path) => !ignored(path))).toEqual([]);
  });

  it('the documented examples are not ignored', () => {
    expect(
      ['.env.example', 'services/auth/.env.example', 'services/data/.env.example'].filter(ignored),
    ).toEqual([]);
  });
});
