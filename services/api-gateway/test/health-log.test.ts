// GET /api/health is routine: polled by the frontend and by people, it writes nothing at info while
// nothing changes; a service going down, and coming back, is logged once each, with the reqId.
import { Writable } from 'node:stream';
import { createLogger } from '@repo/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';
import { type Stub, startStub, TEST_SECRET } from './helpers';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
}

const lines: Line[] = [];
const logger = createLogger({
  service: 'api-gateway',
  destination: new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) {
        const line = JSON.parse(text) as Line & { slow?: boolean; res?: { statusCode: number } };
        // A successful request over the kit's slow threshold (1 s) is logged on purpose; on a loaded
        // machine that can happen to any of these, and it is not what these tests are about.
        if (!(line.slow && (line.res?.statusCode ?? 0) < 400)) lines.push(line);
      }
      done();
    },
  }),
});

const stubs: Stub[] = [];
let dataDown = false;
let gateway: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  for (let i = 0; i < 5; i++) stubs.push(await startStub(() => {}));
  const data = await startStub((app) => {
    app.addHook('onRequest', async (_req, reply) => {
      if (dataDown) return reply.code(503).send({ message: 'database unusable' });
    });
  });
  stubs.push(data);
  const [auth, form, email, worker, scheduler] = stubs.map((s) => s.url) as string[];
  const config = configSchema.parse({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    AUTH_SERVICE_URL: auth,
    FORM_SERVICE_URL: form,
    EMAIL_SERVICE_URL: email,
    DATA_SERVICE_URL: data.url,
    WORKER_SERVICE_URL: worker,
    SCHEDULER_SERVICE_URL: scheduler,
    HEALTH_PROBE_TIMEOUT_MS: '2500',
  });
  gateway = await buildApp({ config, logger, jwtSecret: TEST_SECRET });
});

afterAll(async () => {
  await gateway?.close();
  for (const stub of stubs) await stub.close();
});

const poll = async (times: number, id: string) => {
  for (let i = 0; i < times; i++) {
    const res = await gateway.inject({ url: '/api/health', headers: { 'x-request-id': `${id}-${i}` } });
    expect(res.statusCode).toBe(200);
  }
};

describe('GET /api/health in the logs', () => {
  it('writes nothing at info while every service answers', async () => {
    await poll(5, 'up');
    expect(lines).toEqual([]);
  });

  it('logs a service going down once, and its return once, each with the reqId', async () => {
    dataDown = true;
    await poll(3, 'down');
    dataDown = false;
    await poll(3, 'back');
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([
      [
        40,
        expect.stringMatching(/^data-service is down: data-service failed: 503 database unusable/),
        'down-0',
      ],
      [30, 'data-service answers its /health again', 'back-0'],
    ]);
  });
});
