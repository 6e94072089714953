// data-service's answers are what every other service reads (docs/internal-api.md). When an answer
// drifts from that contract -- a renamed field, a wrong type, a field that must not leave -- the
// route answers 500 and data-service logs, at error, the route and each offending field, with the
// route's declaration as the stack: the failure shows at the service that broke its contract, not
// as an `undefined` (an empty 200) three services away. The real app over a real SQLite file; only
// the store's answers are made to drift.
import { fileURLToPath } from 'node:url';
import { createLogger } from '@repo/service-kit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { openDatabase } from '../src/db';
import { createStore, type Store } from '../src/store';
import { queueDefaults, tempDir, testClock, testConfig } from './helpers';

const FORMS_ROUTES = fileURLToPath(new URL('../src/routes/forms.ts', import.meta.url));
const USERS_ROUTES = fileURLToPath(new URL('../src/routes/users.ts', import.meta.url));

const dir = tempDir('data-contract-');
afterAll(() => dir.remove());

let app: Awaited<ReturnType<typeof buildApp>> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

let counter = 0;
/** The real app and store over a new SQLite file; `drift` changes what the store answers. */
async function driftedApp(drift: (store: Store) => Store) {
  const config = testConfig({ DATABASE_FILE: dir.file(`contract-${++counter}.db`) });
  const db = await openDatabase(config, '/nonexistent-service-dir');
  const clock = testClock();
  const store = createStore(db, { clock, ...queueDefaults });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'data-service',
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  app = await buildApp({ config, logger, db, clock, store: drift(store) });
  const user = await app.inject({
    method: 'POST',
    url: '/users',
    payload: { email: 'ada@example.com', passwordHash: 'scrypt$x' },
  });
  expect(user.statusCode).toBe(201);
  const form = await app.inject({
    method: 'POST',
    url: '/forms',
    payload: { ownerId: user.json().id, title: 'Contact', fields: [] },
  });
  expect(form.statusCode).toBe(201);
  return { app, lines, userId: user.json().id as string, formId: form.json().id as string };
}

const errorsOf = (lines: Record<string, unknown>[]) =>
  // biome-ignore lint/suspicious/noExplicitAny: the assertions read the logged record field by field
  lines.filter((line) => line.level === 50) as Record<string, any>[];

describe('an answer that breaks data-service contract', () => {
  it('a renamed field of a form in GET /forms: 500, logged with the route and both fields', async () => {
    const { app, lines } = await driftedApp((store) => ({
      ...store,
      forms: {
        ...store.forms,
        list: async (filter) =>
          (await store.forms.list(filter)).map(({ title, ...form }) => ({ ...form, name: title })) as never,
      },
    }));
    const res = await app.inject({ url: '/forms', headers: { 'x-request-id': 'req-drift-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      message: 'data-service answered GET /forms with a body that breaks its response schema',
      requestId: 'req-drift-1',
    });
    const errors = errorsOf(lines);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      service: 'data-service',
      reqId: 'req-drift-1',
      method: 'GET',
      url: '/forms',
      route: 'GET /forms',
      msg:
        'data-service GET /forms answered 200 with a body that breaks its response schema: ' +
        'forms.0.title: Invalid input: expected string, received undefined; forms.0.name: unknown field',
      err: { type: 'ResponseContractError' },
    });
    // devctl diagnose reads `where:` from the stack: the declaration of the route, in its own file.
    expect(errors[0]?.err.stack).toContain(`${FORMS_ROUTES}:`);
  });

  it('a time as a number instead of an ISO string in GET /users/:id: 500 naming createdAt', async () => {
    const { app, lines, userId } = await driftedApp((store) => ({
      ...store,
      users: {
        ...store.users,
        findById: async (id) => {
          const user = await store.users.findById(id);
          return user && ({ ...user, createdAt: Date.parse(user.createdAt) } as never);
        },
      },
    }));
    const res = await app.inject({ url: `/users/${userId}` });
    expect(res.statusCode).toBe(500);
    expect(errorsOf(lines)[0]).toMatchObject({
      route: 'GET /users/:id',
      mismatches: [{ field: 'createdAt', problem: 'Invalid input: expected string, received number' }],
    });
    expect(errorsOf(lines)[0]?.err.stack).toContain(`${USERS_ROUTES}:`);
  });

  it('a field that must not leave (the password hash in GET /users/:id): 500, nothing sent', async () => {
    const { app, lines, userId } = await driftedApp((store) => ({
      ...store,
      users: {
        ...store.users,
        findById: async () => store.users.findByEmail('ada@example.com'),
      },
    }));
    const res = await app.inject({ url: `/users/${userId}` });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('scrypt');
    expect(errorsOf(lines)[0]?.mismatches).toEqual([{ field: 'passwordHash', problem: 'unknown field' }]);
  });

  it('a renamed count in GET /jobs/stats, and a missing job id in POST /forms/:id/submissions', async () => {
    const { app, lines, formId } = await driftedApp((store) => ({
      ...store,
      queue: {
        ...store.queue,
        stats: async () => {
          const { pending, ...rest } = await store.queue.stats();
          return { ...rest, queued: pending } as never;
        },
      },
      forms: {
        ...store.forms,
        submit: async (id, input) => {
          const { submission, job } = await store.forms.submit(id, input);
          return { submission: { ...submission, id: undefined } as never, job };
        },
      },
    }));
    expect((await app.inject({ url: '/jobs/stats' })).statusCode).toBe(500);
    const submitted = await app.inject({
      method: 'POST',
      url: `/forms/${formId}/submissions`,
      payload: { answers: {}, job: { type: 'send-confirmation-email' } },
    });
    expect(submitted.statusCode).toBe(500);
    expect(errorsOf(lines).map((line) => line.msg)).toEqual([
      'data-service GET /jobs/stats answered 200 with a body that breaks its response schema: ' +
        'pending: Invalid input: expected number, received undefined; queued: unknown field',
      'data-service POST /forms/:id/submissions answered 201 with a body that breaks its response schema: ' +
        'id: Invalid input: expected string, received undefined',
    ]);
  });
});
