// Properties of auth-service's sign-up validation, checked with fast-check over generated inputs:
// the body schema on its own (thousands of cases), then signup and login through app.inject in
// front of the real data-service (its own process, from source), where an account exists exactly
// when signup answered 201, and its owner can log in with any spelling of the same email.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  type SpawnedProcess,
  serviceEntry,
  spawnProcess,
  type TempDir,
  tempDir,
  waitForHttp,
} from '@repo/test-utils';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { loginBody, signupBody } from '../src/routes/schemas';
import { silentLogger, TEST_SECRET, testConfig } from './helpers';

/** Addresses inside the subset every validator of the stack agrees on. */
const emailArb = fc.stringMatching(
  /^[a-z0-9]{1,12}([._+-][a-z0-9]{1,8})?@[a-z0-9]{1,12}(-[a-z0-9]{1,5})?\.[a-z]{2,6}$/,
);

/** The same address as a user might type it: random case, spaces around. */
const typedAs = (email: string) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: email.length, maxLength: email.length }),
      fc.constantFrom('', ' ', '\t', '  '),
    )
    .map(
      ([upper, pad]) => `${pad}${[...email].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('')}${pad}`,
    );

const passwordArb = fc
  .string({ unit: 'grapheme', minLength: 8, maxLength: 64 })
  .filter((p) => p.length >= 8 && p.length <= 1024);

describe('signup body (properties)', () => {
  it('accepts any valid address in any case and padding, stored trimmed and lowercase', () => {
    fc.assert(
      fc.property(
        emailArb.chain((email) => fc.tuple(fc.constant(email), typedAs(email))),
        passwordArb,
        ([email, typed], password) => {
          const parsed = signupBody.parse({ email: typed, password });
          expect(parsed).toEqual({ email, password });
          expect(loginBody.parse({ email: typed, password }).email).toBe(email);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses a password shorter than 8 or longer than 1024 characters, naming the password only', () => {
    fc.assert(
      fc.property(
        emailArb,
        fc.oneof(fc.string({ maxLength: 7 }), fc.string({ minLength: 1025, maxLength: 1100 })),
        (email, password) => {
          const result = signupBody.safeParse({ email, password });
          expect(result.success).toBe(false);
          expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['password']);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses anything that is not one address: no @, two @, spaces inside, header breaks, too long', () => {
    const notAnAddress = fc.oneof(
      fc.string({ maxLength: 30 }).filter((s) => !s.includes('@')),
      fc.tuple(emailArb, emailArb).map(([a, b]) => `${a}@${b}`),
      fc.tuple(emailArb, emailArb).map(([a, b]) => `${a}, ${b}`),
      emailArb.map((e) => e.replace('@', ' @ ')),
      emailArb.map((e) => `${e}\r\nBcc: victim@example.com`),
      emailArb.map((e) => `${'a'.repeat(250)}${e}`),
    );
    fc.assert(
      fc.property(notAnAddress, passwordArb, (email, password) => {
        const result = signupBody.safeParse({ email, password });
        expect(result.success, JSON.stringify(email)).toBe(false);
        expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['email']);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses any extra field, whatever its name', () => {
    fc.assert(
      fc.property(
        emailArb,
        passwordArb,
        fc
          .string({ minLength: 1, maxLength: 12 })
          .filter((k) => k !== 'email' && k !== 'password' && k !== '__proto__'),
        fc.jsonValue(),
        (email, password, key, value) => {
          const result = signupBody.safeParse({ email, password, [key]: value });
          expect(result.success).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// ---- signup and login, in front of the real data-service ---------------------------------------

let scratch: TempDir;
let dataService: SpawnedProcess;
let dataUrl = '';
let app: FastifyInstance;

beforeAll(async () => {
  scratch = tempDir('auth-property-');
  const port = await freePort();
  dataUrl = `http://127.0.0.1:${port}`;
  const dataDir = fileURLToPath(new URL('../../data/', import.meta.url));
  dataService = spawnProcess(process.execPath, serviceEntry(dataDir), {
    cwd: dataDir,
    name: 'data-service',
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_FILE: join(scratch.path, 'app.db'),
      DATABASE_SQLITE_SYNCHRONOUS: 'NORMAL',
    },
  });
  try {
    await waitForHttp(`${dataUrl}/health`, { timeoutMs: 90_000 });
  } catch (error) {
    throw new Error(`data-service did not start: ${(error as Error).message}\n${dataService.output()}`);
  }
  app = buildApp({
    config: testConfig({ DATA_SERVICE_URL: dataUrl }),
    logger: silentLogger(),
    jwtSecret: TEST_SECRET,
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await dataService?.kill();
  scratch?.cleanup();
});

const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });

describe('signup and login (properties, against the real data-service)', () => {
  it('an account exists exactly when signup said 201; its owner logs in with any spelling and an equivalent Unicode form', async () => {
    const bodyArb = fc.record({
      email: fc.oneof(
        { weight: 3, arbitrary: emailArb.chain((e) => typedAs(e)) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
      ),
      password: fc.oneof(
        { weight: 3, arbitrary: passwordArb },
        { weight: 1, arbitrary: fc.string({ maxLength: 7 }) },
        // Composed letters, so NFC and NFD spellings differ.
        { weight: 1, arbitrary: fc.constantFrom('crème brûlée!', 'Ångström-ünïcode', 'ﬁnancé ﬂow 2024') },
      ),
    });
    const taken = new Set<string>();
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        const signup = await post('/signup', body);
        const parsed = signupBody.safeParse(body);
        const lookup = async () =>
          (await fetch(`${dataUrl}/users/by-email/${encodeURIComponent(body.email.trim().toLowerCase())}`))
            .status;
        if (!parsed.success) {
          expect(signup.statusCode, signup.body).toBe(400);
          if (
            body.email.trim() !== '' &&
            body.email.length < 300 &&
            !taken.has(body.email.trim().toLowerCase())
          )
            expect(await lookup()).toBe(404);
          return;
        }
        const email = parsed.data.email;
        if (taken.has(email)) {
          expect(signup.statusCode, signup.body).toBe(409);
          return;
        }
        expect(signup.statusCode, signup.body).toBe(201);
        taken.add(email);
        expect(signup.json().user.email).toBe(email);
        expect(await lookup()).toBe(200);

        const again = await post('/signup', { email: email.toUpperCase(), password: body.password });
        expect(again.statusCode, again.body).toBe(409);
        const login = await post('/login', {
          email: ` ${email.toUpperCase()} `,
          password: body.password.normalize('NFD'),
        });
        expect(login.statusCode, login.body).toBe(200);
        const wrong = await post('/login', { email, password: `${body.password}x` });
        expect(wrong.statusCode, wrong.body).toBe(401);
      }),
      // Each accepted case costs three scrypt derivations (~50 ms each on an idle core).
      { numRuns: 25 },
    );
  }, 240_000);
});
