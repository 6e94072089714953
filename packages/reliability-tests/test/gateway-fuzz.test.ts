// A bounded fuzz loop over the public routes of the gateway, against the seven real services
// (startStack: real processes on free ports, throwaway database and outbox). fast-check builds
// each request from the route table: valid and hostile ids, every kind of token, bodies that are
// valid, mutated, of the wrong type or not JSON at all. Every answer must come within the timeout,
// be below 500, and a 4xx must carry a message; at the end every service is still healthy.
import { randomUUID } from 'node:crypto';
import { type RunningStack, startStack } from '@repo/test-utils';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../src/http';

const JWT_SECRET = 'fuzz-secret-0123456789abcdef0123456789abcdef';
const ISSUER = 'devstack-auth';
const FUZZ_RUNS = 400;

let stack: RunningStack;
let token = '';
let userId = '';
let formId = '';
const tally = new Map<number, number>();

const key = (secret: string) => new TextEncoder().encode(secret);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  stack = await startStack({
    env: { JWT_SECRET },
    // Login is rate limited per address and email; the fuzz loop logs in far more than 10 times.
    envFor: { 'api-gateway': { HEALTH_PROBE_TIMEOUT_MS: '5000' } },
    healthTimeoutMs: 90_000,
  });
  const email = `fuzz-${randomUUID().slice(0, 8)}@example.com`;
  const signup = await call<{ user: { id: string }; token: string }>(
    stack.gatewayUrl,
    'POST',
    '/api/auth/signup',
    {
      body: { email, password: 'fuzzing is fun!' },
    },
  );
  expect(signup.status, signup.describe).toBe(201);
  token = signup.body.token;
  userId = signup.body.user.id;
  const form = await call<{ id: string }>(stack.gatewayUrl, 'POST', '/api/forms', {
    token,
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

afterAll(async () => {
  await stack?.stop();
});

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
      return `Bearer ${token}`;
    case '{expired}':
      return `Bearer ${await new SignJWT({ email: 'x@example.com' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt(past)
        .setExpirationTime(past + 60)
        .sign(key(JWT_SECRET))}`;
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

describe('gateway fuzz loop against the real stack', () => {
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
            answer = await call(stack.gatewayUrl, method, path, {
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

  it('afterwards every service process is alive and healthy', async () => {
    for (const service of stack.services) {
      expect(
        stack.process(service.name).child.exitCode,
        `${service.name} exited:\n${stack.logs(service.name).slice(-2000)}`,
      ).toBeNull();
      const health = await call(stack.urls[service.name] as string, 'GET', '/health');
      expect(health.status, `${service.name}: ${health.describe}`).toBe(200);
    }
    const aggregated = await call<{ status: string }>(stack.gatewayUrl, 'GET', '/api/health');
    expect(aggregated.body.status, aggregated.describe).toBe('ok');
    // 5xx are logged by the services as errors; none may have happened.
    for (const service of stack.services) {
      expect(stack.logs(service.name), service.name).not.toMatch(/"level":50.*unhandled error/);
    }
  });
});
