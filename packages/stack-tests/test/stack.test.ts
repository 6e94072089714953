import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningStack, startStack } from '@repo/test-utils';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, pollUntil } from './api';

// The whole product flow (sign up, a form, a submission, its email) through the gateway, against
// every built service of ecosystem.config.js running as real processes on free ports (never
// 3000-3006), with a throwaway database and outbox.
// The tests of this file share one stack and run in order: each step uses what the previous made.

interface Form {
  id: string;
  title: string;
  fields: { name: string; type: string }[];
}

const EMAIL_BOUND_MS = 30_000;

let stack: RunningStack;
let api: ReturnType<typeof createApi>;

const suffix = randomUUID().slice(0, 8);
const owner = { email: `owner-${suffix}@example.test`, password: 'correct horse battery' };
const stranger = { email: `stranger-${suffix}@example.test`, password: 'another long password' };
const title = `Stack feedback ${suffix}`;
const fields = [
  { name: 'name', label: 'Your name', type: 'text', required: true },
  { name: 'contact', label: 'Your email', type: 'email', required: true },
  { name: 'age', label: 'Your age', type: 'number', required: false },
  {
    name: 'colour',
    label: 'Favourite colour',
    type: 'choice',
    required: true,
    options: ['red', 'green', 'blue'],
  },
];

let ownerToken = '';
let ownerId = '';
let strangerToken = '';
let form: Form;

/** The tail of a service's output, to put next to a failed assertion. */
function logsOf(name: string): string {
  return `\n--- last output of ${name} ---\n${stack.logs(name).slice(-3000)}`;
}

function outboxFiles(): string[] {
  if (!existsSync(stack.outboxDir)) return [];
  return readdirSync(stack.outboxDir).filter((file) => file.endsWith('.eml'));
}

beforeAll(async () => {
  // info, so request logs (with their request ids) are written.
  stack = await startStack({
    logLevel: 'info',
    healthTimeoutMs: 60_000,
    // The gateway's 1 s default per health probe is tight on a busy 2-core machine.
    envFor: { 'api-gateway': { HEALTH_PROBE_TIMEOUT_MS: '5000' } },
  });
  api = createApi(stack.gatewayUrl);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the stack through the gateway', () => {
  it('signs up: 201 with the user and a token, 409 for the same email, 400 for bad input', async () => {
    const created = await api<{ user: { id: string; email: string }; token: string }>(
      'POST',
      '/api/auth/signup',
      {
        body: owner,
      },
    );
    expect(created.status, created.describe + logsOf('auth-service')).toBe(201);
    expect(created.body.user.email).toBe(owner.email);
    expect(created.body.user.id).toEqual(expect.any(String));
    expect(created.body.token).toEqual(expect.any(String));
    ownerId = created.body.user.id;

    const again = await api('POST', '/api/auth/signup', { body: owner });
    expect(again.status, again.describe).toBe(409);

    const badEmail = await api('POST', '/api/auth/signup', {
      body: { email: 'not-an-email', password: owner.password },
    });
    expect(badEmail.status, badEmail.describe).toBe(400);
    const shortPassword = await api('POST', '/api/auth/signup', {
      body: { email: `short-${suffix}@example.test`, password: 'short' },
    });
    expect(shortPassword.status, shortPassword.describe).toBe(400);

    const second = await api<{ token: string }>('POST', '/api/auth/signup', { body: stranger });
    expect(second.status, second.describe).toBe(201);
    strangerToken = second.body.token;
  });

  it('logs in: 200 with a token, 401 for a wrong password or an unknown email', async () => {
    const login = await api<{ token: string }>('POST', '/api/auth/login', { body: owner });
    expect(login.status, login.describe).toBe(200);
    expect(login.body.token).toEqual(expect.any(String));
    ownerToken = login.body.token;

    const wrong = await api('POST', '/api/auth/login', {
      body: { email: owner.email, password: 'wrong password!' },
    });
    expect(wrong.status, wrong.describe).toBe(401);
    const unknown = await api('POST', '/api/auth/login', {
      body: { email: `nobody-${suffix}@example.test`, password: owner.password },
    });
    expect(unknown.status, unknown.describe).toBe(401);
  });

  it('GET /api/auth/me answers the caller with a token and 401 without one', async () => {
    const me = await api<{ id: string; email: string }>('GET', '/api/auth/me', { token: ownerToken });
    expect(me.status, me.describe).toBe(200);
    expect(me.body).toMatchObject({ id: ownerId, email: owner.email });

    const anonymous = await api('GET', '/api/auth/me');
    expect(anonymous.status, anonymous.describe).toBe(401);
    const forged = await api('GET', '/api/auth/me', { token: `${ownerToken}x` });
    expect(forged.status, forged.describe).toBe(401);
  });

  it('creates a form with text, email, number and choice fields, and lists it for its owner only', async () => {
    const anonymous = await api('POST', '/api/forms', { body: { title, fields } });
    expect(anonymous.status, anonymous.describe).toBe(401);

    const created = await api<Form>('POST', '/api/forms', { token: ownerToken, body: { title, fields } });
    expect(created.status, created.describe + logsOf('form-service')).toBe(201);
    expect(created.body.id).toEqual(expect.any(String));
    expect(created.body.title).toBe(title);
    expect(created.body.fields.map((f) => [f.name, f.type])).toEqual(fields.map((f) => [f.name, f.type]));
    form = created.body;

    const mine = await api<Form[]>('GET', '/api/forms', { token: ownerToken });
    expect(mine.status, mine.describe).toBe(200);
    expect(mine.body.map((f) => f.id)).toContain(form.id);

    const theirs = await api<Form[]>('GET', '/api/forms', { token: strangerToken });
    expect(theirs.status, theirs.describe).toBe(200);
    expect(theirs.body.map((f) => f.id)).not.toContain(form.id);
  });

  it('serves the form publicly, without a token', async () => {
    const publicForm = await api<Form>('GET', `/api/forms/${form.id}`);
    expect(publicForm.status, publicForm.describe).toBe(200);
    expect(publicForm.body).toMatchObject({ id: form.id, title });
    expect(publicForm.body.fields).toHaveLength(fields.length);
  });

  it('rejects a bad submission with 400 naming each bad field', async () => {
    const bad = await api<{ message: string; fields: Record<string, string> }>(
      'POST',
      `/api/forms/${form.id}/submissions`,
      {
        body: { answers: { contact: 'not an email', age: 'forty', colour: 'purple' } },
      },
    );
    expect(bad.status, bad.describe).toBe(400);
    expect(Object.keys(bad.body.fields ?? {}).sort(), bad.describe).toEqual([
      'age',
      'colour',
      'contact',
      'name',
    ]);
  });

  it('stores a good submission (201) and the worker sends exactly one email, whose subject names the form', async () => {
    const submitted = await api<{ id: string }>('POST', `/api/forms/${form.id}/submissions`, {
      body: { answers: { name: 'Ada', contact: 'ada@example.test', age: '36', colour: 'green' } },
    });
    expect(submitted.status, submitted.describe + logsOf('form-service')).toBe(201);
    expect(submitted.body.id).toEqual(expect.any(String));

    const files = await pollUntil(outboxFiles, (list) => list.length > 0, EMAIL_BOUND_MS);
    expect(
      files,
      `no .eml in ${stack.outboxDir} within ${EMAIL_BOUND_MS} ms${logsOf('worker-service')}${logsOf('email-service')}`,
    ).toHaveLength(1);
    // At-least-once delivery must not become twice: give the worker time for another round.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(outboxFiles(), 'a second email appeared for one submission').toHaveLength(1);

    const eml = readFileSync(join(stack.outboxDir, files[0] as string), 'utf8');
    // Subjects with quotes or non-ASCII are MIME encoded-words: decode before comparing.
    const email = await PostalMime.parse(eml);
    expect(email.subject, eml.slice(0, 1000)).toContain(title);
    expect(
      email.to?.map((to) => to.address),
      eml.slice(0, 1000),
    ).toEqual([owner.email]);
  });

  it('shows the submissions to the owner only: 200 owner, 403 another user, 401 without a token', async () => {
    const own = await api<{ id: string; answers: Record<string, unknown> }[]>(
      'GET',
      `/api/forms/${form.id}/submissions`,
      {
        token: ownerToken,
      },
    );
    expect(own.status, own.describe).toBe(200);
    expect(own.body).toHaveLength(1);
    expect(own.body[0]?.answers).toMatchObject({ name: 'Ada', contact: 'ada@example.test', colour: 'green' });

    const other = await api('GET', `/api/forms/${form.id}/submissions`, { token: strangerToken });
    expect(other.status, other.describe).toBe(403);
    const anonymous = await api('GET', `/api/forms/${form.id}/submissions`);
    expect(anonymous.status, anonymous.describe).toBe(401);
  });

  it('GET /api/health lists every backend of ecosystem.config.js as ok', async () => {
    const health = await api<{ services: Record<string, { status: string; latencyMs: number }> }>(
      'GET',
      '/api/health',
    );
    expect(health.status, health.describe).toBe(200);
    // The backends as ecosystem.config.js lists them (read by startStack), not a count kept by hand.
    const names = stack.services.map((s) => s.name);
    expect(Object.keys(health.body.services ?? {}).sort()).toEqual([...names].sort());
    for (const name of names) {
      expect(health.body.services?.[name], `${name} in ${health.describe}`).toMatchObject({
        status: 'ok',
        latencyMs: expect.any(Number),
      });
    }
  });

  it('passes a given x-request-id on, so it appears in the logs of the gateway and form-service', async () => {
    const requestId = `stack-test-${randomUUID()}`;
    const answer = await api('GET', `/api/forms/${form.id}`, { headers: { 'x-request-id': requestId } });
    expect(answer.status, answer.describe).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe(requestId);

    for (const name of ['api-gateway', 'form-service']) {
      const logs = await pollUntil(
        () => stack.logs(name),
        (text) => text.includes(requestId),
        5000,
      );
      expect(
        logs.includes(requestId),
        `request id ${requestId} not in the output of ${name}${logsOf(name)}`,
      ).toBe(true);
    }
  });

  it('answers a clean 502 naming data-service when data-service is down, and recovers when it is back', async () => {
    await stack.stopService('data-service');
    const answers = { name: 'Bob', contact: 'bob@example.test', colour: 'red' };

    const down = await api<{ message: string }>('POST', `/api/forms/${form.id}/submissions`, {
      body: { answers },
      timeoutMs: 20_000,
    });
    expect(down.status, down.describe).toBe(502);
    expect(down.body.message, down.describe).toContain('data-service');
    expect(down.describe, 'a 502 must not leak a stack trace').not.toMatch(/\n\s+at /);

    await stack.startService('data-service');
    const back = await api('POST', `/api/forms/${form.id}/submissions`, { body: { answers } });
    expect(back.status, back.describe + logsOf('form-service')).toBe(201);
  });
});
