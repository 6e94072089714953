// The worker polls POST /jobs/claim every 500 ms: a poll that finds nothing writes no line at info,
// one that hands out a job names the job. The scheduler's hourly purge likewise.
import { Writable } from 'node:stream';
import { createLogger } from '@repo/service-kit';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { openDatabase } from '../src/db';
import { tempDir, testClock, testConfig } from './helpers';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
}

const dir = tempDir();
afterAll(() => dir.remove());

let lines: Line[];
let app: Awaited<ReturnType<typeof buildApp>>;
let counter = 0;

beforeEach(async () => {
  lines = [];
  const logger = createLogger({
    service: 'data-service',
    destination: new Writable({
      write(chunk, _encoding, done) {
        for (const text of String(chunk).split('\n').filter(Boolean)) {
          const line = JSON.parse(text) as Line & { slow?: boolean; res?: { statusCode: number } };
          // A request over the kit's slow threshold (1 s) is logged on purpose; on a loaded machine
          // that can happen to any of these, and it is not what these tests are about.
          if (!(line.slow && (line.res?.statusCode ?? 0) < 400)) lines.push(line);
        }
        done();
      },
    }),
  });
  const config = testConfig({ DATABASE_FILE: dir.file(`job-log-${++counter}.db`) });
  const db = await openDatabase(config, '/nonexistent-service-dir');
  app = await buildApp({ config, logger, db, clock: testClock() });
  lines.length = 0; // the migrations applied at start
});
afterEach(async () => {
  await app.close();
});

const claim = (id: string) =>
  app.inject({
    method: 'POST',
    url: '/jobs/claim',
    payload: { worker: 'w1', types: ['send-digest-email'] },
    headers: { 'x-request-id': id },
  });

describe('job queue lines', () => {
  it('a claim that finds nothing writes nothing at info', async () => {
    for (let i = 0; i < 10; i++) expect((await claim(`poll-${i}`)).json()).toEqual({ jobs: [] });
    expect(lines).toEqual([]);
  });

  it('a claim that hands out a job names it, with the reqId', async () => {
    const job = (
      await app.inject({
        method: 'POST',
        url: '/jobs',
        payload: { type: 'send-digest-email', idempotencyKey: 'k1', maxAttempts: 3 },
      })
    ).json() as { id: string };
    lines.length = 0;
    await claim('poll-a');
    await claim('poll-b');
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([
      [30, `claimed 1 job(s) for w1: ${job.id} (send-digest-email, attempt 1/3)`, 'poll-a'],
    ]);
  });

  it('a claim with a bad body is logged like any failed request', async () => {
    await app.inject({ method: 'POST', url: '/jobs/claim', payload: {}, headers: { 'x-request-id': 'bad' } });
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([['request completed', 'bad']]);
  });

  it('the purge logs only when it purged something', async () => {
    const purge = () =>
      app.inject({ method: 'DELETE', url: '/jobs/dead', headers: { 'x-request-id': 'purge' } });
    expect((await purge()).json()).toEqual({ purged: 0 });
    expect(lines).toEqual([]);
    await app.inject({
      method: 'POST',
      url: '/jobs',
      payload: { type: 'send-digest-email', idempotencyKey: 'k2', maxAttempts: 1 },
    });
    const [job] = (await claim('poll')).json().jobs as { id: string; leaseToken: string }[];
    await app.inject({
      method: 'POST',
      url: `/jobs/${job?.id}/fail`,
      payload: { leaseToken: job?.leaseToken, error: 'smtp down' },
    });
    lines.length = 0;
    expect((await purge()).json()).toEqual({ purged: 1 });
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([['purged 1 dead job(s)', 'purge']]);
  });
});
