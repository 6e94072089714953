// Security defaults of the stack as a developer runs it: the seven services started by `devctl start
// --wait` (what `pnpm pm2:start` runs) under a real PM2 (private PM2_HOME, a generated copy of
// ecosystem.config.js on free ports, which sets no HOST and no LOGIN_RATE_LIMIT, so the services'
// own defaults apply), with their real log files. The start's preflight leaves each service's
// config dry run in devctl's cache, so `devctl env` and `diagnose` below read it instead of running
// seven `--print-config` processes again each (a plain `pm2 start` left the cache empty: 20 dry runs
// in this file, several of them timed out on a loaded machine and ran again).
// - every service listens on 127.0.0.1 only (read from /proc/net/tcp, not from its logs);
// - protected routes need a valid token;
// - login is rate limited (429);
// - passwords, password hashes, tokens and the JWT secret never reach a log, on the happy path and
//   on the error path (data-service down), even at LOG_LEVEL=trace;
// - devctl masks the secret in env, status and diagnose;
// - .env files, secrets, logs, the database and the outbox are ignored by git.
// devctl acting only inside its namespace is tested by devctl itself: packages/devctl/test/namespace.test.ts.
// The same stack also takes a bounded fuzz loop over the gateway's public routes (fast-check builds
// each request from the route table: valid and hostile ids, every kind of token, bodies that are
// valid, mutated, of the wrong type or not JSON at all). Every answer must come within the timeout,
// be below 500, and a 4xx must carry a message; afterwards no service restarted and all are healthy.
// It runs after the read-only checks and before the error path (data-service stopped), whose 5xx
// would spoil its "no unhandled error logged" check; one stack serves both (7 start-ups fewer).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, waitForHttp } from '@repo/test-utils';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_JOBS_ENV } from '../src/ecosystem';
import { call } from '../src/http';
import { createPm2Stack, type Pm2Process, type Pm2Stack } from '../src/pm2';
import { listeningSockets } from '../src/proc-net';

let stack: Pm2Stack;
let gateway = '';
const secrets = new Set<string>();
const password = 'Sup3r-Secret-Passw0rd!';
const email = `security-${Date.now()}@example.com`;
let token = '';
const ISSUER = 'devstack-auth';
const FUZZ_RUNS = 400;

let fuzzToken = '';
let userId = '';
let formId = '';
const tally = new Map<number, number>();
/** PM2's list just before the fuzz loop: no service may restart during it. */
let beforeFuzz: Pm2Process[] = [];

const key = (secret: string) => new TextEncoder().encode(secret);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  stack = await createPm2Stack({
    logLevel: 'trace',
    // The fuzz loop's health probes wait on a loaded machine; the default bound would answer 503.
    envFor: { ...NO_JOBS_ENV, 'api-gateway': { HEALTH_PROBE_TIMEOUT_MS: '5000' } },
  });
  const started = await stack.devctl(['start', '--wait', '--no-build', '--timeout', '120']);
  expect(started.code, started.stdout + started.stderr).toBe(0);
  gateway = stack.ecosystem.gatewayUrl;
  secrets.add(stack.ecosystem.jwtSecret);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

/** A log file's text ('' while it does not exist). */
function readLog(file: string | undefined): string {
  if (file === undefined) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Every line PM2 wrote for every app so far. */
function allLogs(): string {
  return Object.values(stack.ecosystem.logFiles)
    .map((files) => `${readLog(files.out)}\n${readLog(files.err)}`)
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

const hostileStrings = fc.constantFrom(
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  '<script>alert(1)</script>',
  // A log4shell probe, written without a template literal on purpose.
  `${'$'}{jndi:ldap://x}`,
  '\u0000\u0001\u0002',
  'a'.repeat(10_000),
  '😀'.repeat(100),
  '__proto__',
  'constructor',
);

const idArb = fc.oneof(
  fc.constant('{form}'),
  fc.uuid().map(String),
  hostileStrings.map(encodeURIComponent),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);

const tokenArb = fc.oneof(
  fc.constant('{valid}'),
  fc.constant(undefined),
  fc.constantFrom('garbage', 'a.b.c', 'Basic dXNlcjpwYXNz', ''),
  fc.constant('{expired}'),
  fc.constant('{alg-none}'),
  fc.constant('{wrong-secret}'),
);

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileStrings,
  fc.record({
    email: fc.oneof(fc.emailAddress(), hostileStrings, fc.integer()),
    password: fc.oneof(fc.string({ maxLength: 30 }), hostileStrings, fc.constant(null)),
  }),
  fc.record({
    title: fc.oneof(fc.string({ maxLength: 30 }), hostileStrings, fc.integer()),
    fields: fc.oneof(
      fc.array(
        fc.record({
          name: fc.oneof(fc.stringMatching(/^[a-z]{1,8}$/), hostileStrings),
          label: fc.string({ maxLength: 10 }),
          type: fc.constantFrom('text', 'email', 'number', 'choice', 'file'),
          required: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })),
          options: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
        }),
        { maxLength: 3 },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }),
  fc.record({
    answers: fc.oneof(
      fc.dictionary(
        fc.constantFrom('name', 'age', 'pick', 'other'),
        fc.oneof(fc.string(), fc.double(), hostileStrings, fc.constant(null)),
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }),
);

const bodyArb = fc.oneof(
  { weight: 5, arbitrary: jsonish.map((value) => ({ json: value })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('{"email":', '{title: 1}', 'null', '[]', '{"a":1}}', 'not json')
      .map((raw) => ({ raw, type: 'application/json' })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((raw) => ({ raw, type: 'text/plain' })) },
  {
    weight: 1,
    arbitrary: fc.constant({
      raw: `{"answers":{"name":"${'x'.repeat(200 * 1024)}"}}`,
      type: 'application/json',
    }),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const routeArb = fc.constantFrom(
  ['POST', '/api/auth/signup'],
  ['POST', '/api/auth/login'],
  ['GET', '/api/auth/me'],
  ['POST', '/api/forms'],
  ['GET', '/api/forms'],
  ['GET', '/api/forms/{id}'],
  ['POST', '/api/forms/{id}/submissions'],
  ['GET', '/api/forms/{id}/submissions'],
  ['GET', '/api/health'],
  ['DELETE', '/api/forms/{id}'],
  ['PUT', '/api/auth/login'],
  ['GET', '/api/{id}'],
  ['PATCH', '/api/forms'],
);

async function resolveToken(kind: string | undefined): Promise<string | undefined> {
  const past = Math.floor(Date.now() / 1000) - 7200;
  switch (kind) {
    case '{valid}':
      return `Bearer ${fuzzToken}`;
    case '{expired}':
      return `Bearer ${await new SignJWT({ email: 'x@example.com' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt(past)
        .setExpirationTime(past + 60)
        .sign(key(stack.ecosystem.jwtSecret))}`;
    case '{alg-none}':
      return `Bearer ${b64({ alg: 'none' })}.${b64({ sub: userId, email: 'x@example.com', iss: ISSUER, exp: past + 9999 })}.`;
    case '{wrong-secret}':
      return `Bearer ${await new SignJWT({ email: 'x@example.com' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuer(ISSUER).setExpirationTime('1h').sign(key('another-secret-another-secret-another!'))}`;
    case undefined:
      return undefined;
    default:
      return kind;
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
});

describe('gateway fuzz loop against the same stack', () => {
  beforeAll(async () => {
    beforeFuzz = await stack.list();
    const email = `fuzz-${randomUUID().slice(0, 8)}@example.com`;
    const signup = await call<{ user: { id: string }; token: string }>(gateway, 'POST', '/api/auth/signup', {
      body: { email, password: 'fuzzing is fun!' },
    });
    expect(signup.status, signup.describe).toBe(201);
    fuzzToken = signup.body.token;
    userId = signup.body.user.id;
    const form = await call<{ id: string }>(gateway, 'POST', '/api/forms', {
      token: fuzzToken,
      body: {
        title: 'Fuzz target',
        fields: [
          { name: 'name', label: 'Name', type: 'text', required: true },
          { name: 'age', label: 'Age', type: 'number', required: false },
          { name: 'pick', label: 'Pick', type: 'choice', required: false, options: ['a', 'b'] },
        ],
      },
    });
    expect(form.status, form.describe).toBe(201);
    formId = form.body.id;
  }, 240_000);

  it(`${FUZZ_RUNS} generated requests: never a 5xx, never a hang, always a message`, async () => {
    await fc.assert(
      fc.asyncProperty(
        routeArb,
        idArb,
        tokenArb,
        bodyArb,
        async ([method, template], id, tokenKind, body) => {
          const path = template.replace('{id}', id.replace('{form}', formId));
          const authorization = await resolveToken(tokenKind);
          const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
          const sendsBody = method !== 'GET' && body !== undefined;
          if (sendsBody && 'type' in body) headers['content-type'] = body.type;
          let answer: Awaited<ReturnType<typeof call>>;
          try {
            answer = await call(gateway, method, path, {
              headers,
              ...(sendsBody ? ('json' in body ? { body: body.json } : { rawBody: body.raw }) : {}),
              timeoutMs: 20_000,
            });
          } catch (error) {
            throw new Error(`${method} ${path.slice(0, 120)}: no answer (${(error as Error).message})`);
          }
          tally.set(answer.status, (tally.get(answer.status) ?? 0) + 1);
          expect(answer.status, answer.describe).toBeLessThan(500);
          if (answer.status >= 400) {
            expect((answer.body as { message?: unknown })?.message, answer.describe).toEqual(
              expect.any(String),
            );
          }
        },
      ),
      { numRuns: FUZZ_RUNS, endOnFailure: true },
    );
    console.log(
      `gateway fuzz: ${FUZZ_RUNS} requests, answers by status: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`,
    );
  }, 600_000);

  it('afterwards every service process is alive, never restarted, and healthy', async () => {
    const after = await stack.list();
    for (const name of stack.ecosystem.services) {
      const now = after.find((p) => p.name === name);
      const was = beforeFuzz.find((p) => p.name === name);
      const errLog = () => readLog(stack.ecosystem.logFiles[name]?.err).slice(-2000);
      expect(now?.pm2_env.status, `${name}:\n${errLog()}`).toBe('online');
      expect(now?.pm2_env.restart_time, `${name} restarted during the fuzz loop:\n${errLog()}`).toBe(
        was?.pm2_env.restart_time,
      );
      const health = await call(stack.ecosystem.urls[name] as string, 'GET', '/health');
      expect(health.status, `${name}: ${health.describe}`).toBe(200);
    }
    const aggregated = await call<{ status: string }>(gateway, 'GET', '/api/health');
    expect(aggregated.body.status, aggregated.describe).toBe('ok');
    // 5xx are logged by the services as errors; none may have happened.
    for (const name of stack.ecosystem.services) {
      const files = stack.ecosystem.logFiles[name];
      expect(`${readLog(files?.out)}\n${readLog(files?.err)}`, name).not.toMatch(
        /"level":50.*unhandled error/,
      );
    }
  });
});

// After the fuzz loop: its check of the logs must not see the 5xx this part causes on purpose.
describe('security defaults of the running stack: the error path, and what devctl prints', () => {
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
