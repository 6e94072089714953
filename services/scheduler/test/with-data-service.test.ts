import { createLogger } from '@repo/service-kit';
import { startRealDataService } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';

// scheduler-service against the real data-service process (embedded database in a temp folder).
let data: Awaited<ReturnType<typeof startRealDataService>>;
let app: ReturnType<typeof buildApp>;

async function dataCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${data.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function ownerWithSubmissions(count: number) {
  const owner = await dataCall<{ id: string; email: string }>('POST', '/users', {
    email: `owner-${crypto.randomUUID()}@example.com`,
    passwordHash: 'x',
  });
  const form = await dataCall<{ id: string }>('POST', '/forms', {
    ownerId: owner.id,
    title: `Form of ${owner.email}`,
    fields: [{ name: 'a', label: 'A', type: 'text', required: false }],
  });
  for (let i = 0; i < count; i++) {
    await dataCall('POST', `/forms/${form.id}/submissions`, { answers: { a: String(i) } });
  }
  return { owner, form };
}

beforeAll(async () => {
  data = await startRealDataService();
  app = buildApp({
    config: configSchema.parse({ DATA_SERVICE_URL: data.url }),
    logger: createLogger({ service: 'scheduler-service', level: 'silent' }),
  });
}, 90_000);
afterAll(async () => {
  await app?.close();
  await data?.stop();
});

describe('scheduler-service + real data-service', () => {
  it('daily-digest enqueues one send-digest-email job per owner with new submissions, once per day', async () => {
    const busy = await ownerWithSubmissions(2);
    await ownerWithSubmissions(0);

    const first = await app.inject({ method: 'POST', url: '/schedules/daily-digest/run' });
    expect(first.statusCode).toBe(200);
    const { result } = first.json();
    expect(result).toMatchObject({ ok: true, owners: 1 });

    const { jobs } = await dataCall<{
      jobs: { id: string; idempotencyKey: string; payload: Record<string, unknown> }[];
    }>('GET', '/jobs?type=send-digest-email');
    expect(jobs.map((j) => j.idempotencyKey)).toEqual([`digest:${busy.owner.id}:${result.date}`]);
    expect(jobs[0]?.payload).toMatchObject({
      ownerId: busy.owner.id,
      email: busy.owner.email,
      forms: [{ id: busy.form.id, title: `Form of ${busy.owner.email}`, submissions: 2 }],
    });

    const again = await app.inject({ method: 'POST', url: '/schedules/daily-digest/run' });
    expect(again.json().result.jobIds).toEqual(result.jobIds);
    const after = await dataCall<{ jobs: unknown[] }>('GET', '/jobs?type=send-digest-email');
    expect(after.jobs).toHaveLength(1);
  });

  it('purge-dead-jobs answers how many dead jobs it purged', async () => {
    const res = await app.inject({ method: 'POST', url: '/schedules/purge-dead-jobs/run' });
    expect(res.statusCode).toBe(200);
    expect(res.json().result).toMatchObject({ ok: true, purged: 0 });
  });
});
