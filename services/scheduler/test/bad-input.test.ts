import { createLogger } from '@repo/service-kit';
import { startRealDataService } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';

let dataService: Awaited<ReturnType<typeof startRealDataService>>;
let dataUrl = '';
let app: ReturnType<typeof buildApp>;

beforeAll(async () => {
  dataService = await startRealDataService();
  dataUrl = dataService.url;
  app = buildApp({
    config: configSchema.parse({ DATA_SERVICE_URL: dataUrl }),
    logger: createLogger({ service: 'scheduler-service', level: 'silent' }),
  });
  await app.ready();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await dataService?.stop();
});

async function send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: string) {
  const res = await app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }),
  });
  let body: { message?: string } = {};
  try {
    body = res.json();
  } catch {
    // every answer must be JSON: the assertion below says so
  }
  return {
    status: res.statusCode,
    body,
    raw: res.body,
    describe: `${method} ${url.slice(0, 120)} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
  };
}

function expectClearRefusal(res: Awaited<ReturnType<typeof send>>, status?: number) {
  if (status !== undefined) expect(res.status, res.describe).toBe(status);
  expect(res.status, res.describe).toBeGreaterThanOrEqual(400);
  expect(res.status, res.describe).toBeLessThan(500);
  expect(res.body.message, res.describe).toEqual(expect.any(String));
  expect(res.body.message?.length, res.describe).toBeGreaterThan(5);
}

describe('scheduler-service refuses bad input with a 4xx that says why, and runs nothing', () => {
  it('unknown, hostile or traversing schedule names: 404 naming the schedules that exist', async () => {
    for (const name of [
      "' OR '1'='1",
      'daily-digest; DROP TABLE jobs',
      '..',
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      'DAILY-DIGEST',
      'constructor',
      '__proto__',
      'toString',
    ]) {
      const encoded = name.includes('%') ? name : encodeURIComponent(name);
      const res = await send('POST', `/schedules/${encoded}/run`);
      expectClearRefusal(res, 404);
      // `..` is resolved by the URL parser before routing: a route 404 rather than a schedule 404.
      expect(res.body.message, res.describe).toMatch(
        /schedules: daily-digest, purge-dead-jobs|^route POST \/run not found/,
      );
    }
  });

  it('a name over 100 characters: 414 from the router', async () => {
    expectClearRefusal(await send('POST', `/schedules/${'s'.repeat(5000)}/run`), 414);
  });

  it('malformed JSON bodies on the run route: 400 naming JSON, and the schedule does not run', async () => {
    for (const body of ['{"now":', '{now: true}', '{"a":1}}']) {
      const res = await send('POST', '/schedules/daily-digest/run', body);
      expectClearRefusal(res, 400);
      expect(res.body.message).toMatch(/JSON/i);
    }
    const oversized = await send(
      'POST',
      '/schedules/daily-digest/run',
      JSON.stringify({ x: 'x'.repeat(300 * 1024) }),
    );
    expectClearRefusal(oversized, 413);
    const listed = await send('GET', '/schedules');
    const schedules = (JSON.parse(listed.raw) as { schedules: { name: string; lastRun: string | null }[] })
      .schedules;
    expect(schedules.map((s) => [s.name, s.lastRun])).toEqual([
      ['daily-digest', null],
      ['purge-dead-jobs', null],
    ]);
  });

  it('routes and methods that do not exist: 404', async () => {
    for (const [method, url] of [
      ['PUT', '/schedules/daily-digest'],
      ['DELETE', '/schedules/daily-digest'],
      ['GET', '/schedules/daily-digest/run'],
      ['GET', '/../../etc/passwd'],
    ] as const) {
      expectClearRefusal(await send(method, url), 404);
    }
  });

  it('after all of it no job was queued and both services answer', async () => {
    const jobs = (await (await fetch(`${dataUrl}/jobs?limit=1000`)).json()) as { jobs: unknown[] };
    expect(jobs.jobs).toEqual([]);
    expect((await send('GET', '/health')).status).toBe(200);
    expect((await send('GET', '/ready')).status).toBe(200);
  });
});
