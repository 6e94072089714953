import { createLogger } from '@repo/service-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import { startFakeDataService } from './fake-data-service';

const logger = createLogger({ service: 'scheduler-service', level: 'silent' });
const DAY_MS = 24 * 60 * 60 * 1000;

let data: Awaited<ReturnType<typeof startFakeDataService>>;
let app: ReturnType<typeof buildApp>;

beforeAll(async () => {
  data = await startFakeDataService();
  app = buildApp({ config: configSchema.parse({ DATA_SERVICE_URL: data.url }), logger });
});
afterAll(async () => {
  await app.close();
  await data.close();
});
beforeEach(() => {
  data.jobs.length = 0;
  data.calls.length = 0;
});

const runNow = (name: string) => app.inject({ method: 'POST', url: `/schedules/${name}/run` });

describe('GET /schedules', () => {
  it('lists both schedules with their default cron and next run, before any run', async () => {
    const res = await app.inject({ method: 'GET', url: '/schedules' });
    expect(res.statusCode).toBe(200);
    const { schedules } = res.json();
    expect(schedules.map((s: { name: string; cron: string }) => [s.name, s.cron])).toEqual([
      ['daily-digest', '0 8 * * *'],
      ['purge-dead-jobs', '0 * * * *'],
    ]);
    for (const schedule of schedules) {
      expect(Date.parse(schedule.nextRun)).toBeGreaterThan(Date.now());
    }
    const digestNext = new Date(schedules[0].nextRun);
    expect([digestNext.getHours(), digestNext.getMinutes()]).toEqual([8, 0]);
  });
});

describe('POST /schedules/daily-digest/run', () => {
  it('enqueues one send-digest-email job per owner with new submissions, keyed by owner and date', async () => {
    data.state.digestOwners = [
      { ownerId: 'owner-a', email: 'a@example.com', forms: [{ id: 'f1', title: 'Contact', submissions: 2 }] },
      {
        ownerId: 'owner-b',
        email: 'b@example.com',
        forms: [
          { id: 'f2', title: 'Survey', submissions: 1 },
          { id: 'f3', title: 'Quiet', submissions: 0 },
        ],
      },
      {
        ownerId: 'owner-c',
        email: 'c@example.com',
        forms: [{ id: 'f4', title: 'Nothing new', submissions: 0 }],
      },
    ];
    const before = Date.now();
    const res = await runNow('daily-digest');
    const after = Date.now();
    expect(res.statusCode).toBe(200);
    const { name, result } = res.json();
    const date = new Date(before).toISOString().slice(0, 10);
    expect(name).toBe('daily-digest');
    expect(result).toMatchObject({ ok: true, owners: 2, date, jobIds: data.jobs.map((j) => j.id) });

    const [statsCall] = data.callsTo('GET', '/stats/digest');
    const since = Date.parse(statsCall?.query.since ?? '');
    expect(since).toBeGreaterThanOrEqual(before - DAY_MS - 1000);
    expect(since).toBeLessThanOrEqual(after - DAY_MS);

    expect(data.jobs.map((j) => [j.type, j.idempotencyKey])).toEqual([
      ['send-digest-email', `digest:owner-a:${date}`],
      ['send-digest-email', `digest:owner-b:${date}`],
    ]);
    expect(data.jobs[1]?.payload).toEqual({
      ownerId: 'owner-b',
      email: 'b@example.com',
      date,
      since: statsCall?.query.since,
      forms: [{ id: 'f2', title: 'Survey', submissions: 1 }],
    });
  });

  it('asks for the same keys when run twice on one day, so no owner gets two digests', async () => {
    data.state.digestOwners = [
      { ownerId: 'owner-a', email: 'a@example.com', forms: [{ id: 'f1', title: 'C', submissions: 1 }] },
    ];
    const first = (await runNow('daily-digest')).json();
    const second = (await runNow('daily-digest')).json();
    expect(second.result.jobIds).toEqual(first.result.jobIds);
    expect(data.jobs).toHaveLength(1);
  });

  it('records the run as lastRun and lastResult', async () => {
    data.state.digestOwners = [];
    await runNow('daily-digest');
    const { schedules } = (await app.inject({ method: 'GET', url: '/schedules' })).json();
    const digest = schedules.find((s: { name: string }) => s.name === 'daily-digest');
    expect(Date.parse(digest.lastRun)).toBeGreaterThan(Date.now() - 60_000);
    expect(digest.lastResult).toMatchObject({ ok: true, owners: 0, jobIds: [] });
  });
});

describe('POST /schedules/purge-dead-jobs/run', () => {
  it('deletes dead jobs older than 7 days', async () => {
    data.state.deadToPurge = 3;
    const before = Date.now();
    const res = await runNow('purge-dead-jobs');
    expect(res.statusCode).toBe(200);
    expect(res.json().result).toMatchObject({ ok: true, purged: 3 });
    const [call] = data.callsTo('DELETE', '/jobs/dead');
    const olderThan = Date.parse(call?.query.olderThan ?? '');
    expect(olderThan).toBeGreaterThanOrEqual(before - 7 * DAY_MS - 1000);
    expect(olderThan).toBeLessThanOrEqual(Date.now() - 7 * DAY_MS);
  });
});

describe('errors', () => {
  it('answers 404 naming the known schedules for an unknown name', async () => {
    const res = await runNow('weekly-report');
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toBe(
      'no schedule named weekly-report; schedules: daily-digest, purge-dead-jobs',
    );
  });

  it('answers 502 naming data-service when it is down, and keeps the failure as lastResult', async () => {
    const down = await startFakeDataService();
    await down.close();
    const offline = buildApp({ config: configSchema.parse({ DATA_SERVICE_URL: down.url }), logger });
    try {
      const res = await offline.inject({ method: 'POST', url: '/schedules/daily-digest/run' });
      expect(res.statusCode).toBe(502);
      expect(res.json().message).toMatch(/^daily-digest failed: data-service unreachable at /);
      const { schedules } = (await offline.inject({ method: 'GET', url: '/schedules' })).json();
      expect(schedules[0].lastResult).toEqual({
        ok: false,
        error: expect.stringMatching(/data-service unreachable/),
      });
      expect((await offline.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    } finally {
      await offline.close();
    }
  });
});

describe('cron', () => {
  it('runs a schedule on its cron once listening, and stops on close', async () => {
    const fast = await startFakeDataService();
    // Every second (6-field expression with seconds): the purge fires without waiting an hour.
    const ticking = buildApp({
      config: configSchema.parse({ DATA_SERVICE_URL: fast.url, PURGE_CRON: '* * * * * *' }),
      logger,
    });
    try {
      await ticking.listen({ port: 0, host: '127.0.0.1' });
      const deadline = Date.now() + 10_000;
      while (fast.callsTo('DELETE', '/jobs/dead').length === 0) {
        if (Date.now() > deadline) throw new Error('purge-dead-jobs never ran on its cron');
        await new Promise((r) => setTimeout(r, 50));
      }
      await ticking.close();
      const runs = fast.callsTo('DELETE', '/jobs/dead').length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(fast.callsTo('DELETE', '/jobs/dead').length).toBe(runs);
      expect(ticking.scheduler.list().every((s) => s.nextRun === null)).toBe(true);
    } finally {
      await ticking.close();
      await fast.close();
    }
  });
});
