// Request logging: every request at info with its reqId, except routine machinery (probes, polls),
// which stays below info unless it fails or is slow.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { HttpError } from '../src/errors';
import { createServiceClient } from '../src/http-client';
import { z } from '../src/index';
import { createLogger, type Logger } from '../src/logger';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  method?: string;
  url?: string;
  res?: { statusCode: number };
  slow?: boolean;
  routine?: boolean;
  reason?: string;
  code?: string;
}

/** The kit's logger at `level`, keeping its lines, parsed. */
function capture(level = 'info'): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: createLogger({ service: 'test-service', level, destination: stream }), lines };
}

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function build(options: Partial<Parameters<typeof createApp>[0]> & { logger: Logger }) {
  // A generous slow threshold unless the test sets one: a loaded machine must not make a probe slow.
  const app = createApp({ service: 'test-service', slowRequestMs: 60_000, ...options });
  apps.push(app);
  return app;
}

const INFO = 30;
const WARN = 40;

describe('request logging', () => {
  it('logs an ordinary request at info, twice, with its reqId', async () => {
    const { logger, lines } = capture();
    const app = build({ logger });
    app.get('/forms', async () => []);
    await app.inject({ url: '/forms', headers: { 'x-request-id': 'req-1' } });
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([
      [INFO, 'incoming request', 'req-1'],
      [INFO, 'request completed', 'req-1'],
    ]);
  });

  it('writes nothing at info for /health and /ready probes that succeed', async () => {
    const { logger, lines } = capture();
    const app = build({ logger, readiness: [{ name: 'database', check: async () => true }] });
    for (let i = 0; i < 10; i++) {
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
    }
    expect(lines).toEqual([]);
  });

  it('keeps the probes at debug, with their reqId, for LOG_LEVEL=debug', async () => {
    const { logger, lines } = capture('debug');
    const app = build({ logger });
    await app.inject({ url: '/health', headers: { 'x-request-id': 'probe-1' } });
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([
      [20, 'incoming request', 'probe-1'],
      [20, 'request completed', 'probe-1'],
    ]);
  });

  it('logs a probe that answers 503 at warn, with method, url, status and reqId', async () => {
    const { logger, lines } = capture();
    const app = build({
      logger,
      readiness: [
        {
          name: 'data-service',
          check: async () => {
            throw new Error('data-service unreachable');
          },
        },
      ],
    });
    await app.inject({ url: '/ready', headers: { 'x-request-id': 'ready-1' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: WARN,
      msg: 'request completed',
      reqId: 'ready-1',
      method: 'GET',
      url: '/ready',
      res: { statusCode: 503 },
      routine: true,
    });
  });

  it('logs a slow probe at warn, saying it was slow', async () => {
    const { logger, lines } = capture();
    const app = build({
      logger,
      slowRequestMs: 50,
      health: () => new Promise((resolve) => setTimeout(() => resolve({}), 80)),
    });
    await app.inject({ url: '/health', headers: { 'x-request-id': 'slow-1' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: WARN,
      reqId: 'slow-1',
      slow: true,
      url: '/health',
      res: { statusCode: 200 },
    });
  });

  it('logs an error in a routine route: the error, then the completion at warn', async () => {
    const { logger, lines } = capture();
    const app = build({
      logger,
      health: () => {
        throw new Error('cannot read queue figures');
      },
    });
    expect((await app.inject({ url: '/health', headers: { 'x-request-id': 'err-1' } })).statusCode).toBe(500);
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([
      [50, 'unhandled error in GET /health', 'err-1'],
      [WARN, 'request completed', 'err-1'],
    ]);
  });

  it('a routine route (a poll) logs only what its handler logs: the state change, with its reqId', async () => {
    const { logger, lines } = capture();
    const app = build({ logger });
    let queue = ['job-1'];
    app.post('/jobs/claim', { config: { routine: true } }, async (req) => {
      const jobs = queue;
      queue = [];
      if (jobs.length > 0) req.log.info({ jobs }, `claimed ${jobs.join(', ')}`);
      return { jobs };
    });
    await app.inject({ method: 'POST', url: '/jobs/claim', headers: { 'x-request-id': 'poll-1' } });
    for (let i = 0; i < 5; i++) await app.inject({ method: 'POST', url: '/jobs/claim' });
    expect(lines.map((l) => [l.level, l.msg, l.reqId])).toEqual([[INFO, 'claimed job-1', 'poll-1']]);
  });

  it('honours the routine header for reads only: a write with it is still logged', async () => {
    const { logger, lines } = capture();
    const app = build({ logger });
    app.get('/jobs/stats', async () => ({ pending: 0 }));
    app.post('/jobs', async () => ({ id: 'j' }));
    await app.inject({ url: '/jobs/stats', headers: { 'x-routine-request': '1' } });
    expect(lines).toEqual([]);
    await app.inject({ method: 'POST', url: '/jobs', headers: { 'x-routine-request': '1' } });
    expect(lines.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
  });

  it('at the edge (honourRoutineHeader: false) the header hides nothing', async () => {
    const { logger, lines } = capture();
    const app = build({ logger, honourRoutineHeader: false });
    app.get('/api/forms', async () => []);
    await app.inject({ url: '/api/forms', headers: { 'x-routine-request': '1', 'x-request-id': 'edge-1' } });
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['incoming request', 'edge-1'],
      ['request completed', 'edge-1'],
    ]);
    // Its own probes stay routine.
    await app.inject({ url: '/health' });
    expect(lines).toHaveLength(2);
  });

  it('a read made to answer a probe is routine at the other service; the same read from a route is not', async () => {
    const upstream = capture();
    const data = build({ logger: upstream.logger, service: 'data-service' });
    data.get('/jobs/stats', async () => ({ pending: 0 }));
    await data.listen({ port: 0, host: '127.0.0.1' });
    const address = data.server.address() as { port: number };
    upstream.lines.splice(0); // Fastify's "Server listening" line
    const client = createServiceClient({ name: 'data-service', baseUrl: `http://127.0.0.1:${address.port}` });

    const own = capture();
    const worker = build({ logger: own.logger, health: () => client.get('/jobs/stats') });
    worker.get('/queue', async () => client.get('/jobs/stats'));

    expect((await worker.inject({ url: '/health' })).statusCode).toBe(200);
    expect(upstream.lines).toEqual([]);
    await worker.inject({ url: '/queue', headers: { 'x-request-id': 'queue-1' } });
    expect(upstream.lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['incoming request', 'queue-1'],
      ['request completed', 'queue-1'],
    ]);
  });

  it('a refused request says why on its "request completed" line, whoever wrote the answer', async () => {
    const { logger, lines } = capture();
    const app = build({ logger });
    app.post('/thrown', async () => {
      throw new HttpError(400, 'invalid answers: colour: must be one of: red, blue');
    });
    app.post('/sent', async (_req, reply) => reply.code(409).send({ message: 'already submitted' }));
    app.get('/fine', async () => ({ message: 'not a refusal' }));
    app.get('/probe', { config: { routine: true } }, async (_req, reply) =>
      reply.code(404).send({ message: 'no such job' }),
    );
    await app.inject({ method: 'POST', url: '/thrown' });
    await app.inject({ method: 'POST', url: '/sent' });
    await app.inject({ url: '/fine' });
    await app.inject({ url: '/probe' });
    await app.inject({ url: '/nowhere' });
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed.map((l) => [l.level, l.res?.statusCode, l.reason])).toEqual([
      [INFO, 400, 'invalid answers: colour: must be one of: red, blue'],
      [INFO, 409, 'already submitted'],
      [INFO, 200, undefined],
      [INFO, 404, 'no such job'],
      [INFO, 404, 'route GET /nowhere not found'],
    ]);
  });

  it('a refusal by Fastify itself carries its error code; a refusal by a handler carries none', async () => {
    const { logger, lines } = capture();
    const app = build({ logger, bodyLimit: 64 });
    app.post('/forms', { schema: { body: z.object({ title: z.string() }) } }, async (req) => {
      const { title } = req.body as { title: string };
      if (title === 'taken') throw new HttpError(409, 'a form with this title exists');
      return { title };
    });
    const json = { 'content-type': 'application/json' };
    // Over the body limit, a content type no parser takes, the route's schema, the handler's rule.
    await app.inject({
      method: 'POST',
      url: '/forms',
      headers: json,
      payload: JSON.stringify({ title: 'x'.repeat(200) }),
    });
    await app.inject({
      method: 'POST',
      url: '/forms',
      headers: { 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    await app.inject({ method: 'POST', url: '/forms', headers: json, payload: '{"title": 3}' });
    await app.inject({ method: 'POST', url: '/forms', headers: json, payload: '{"title": "taken"}' });
    await app.inject({ method: 'POST', url: '/forms', headers: json, payload: '{"title": "ok"}' });
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed.map((l) => [l.res?.statusCode, l.code])).toEqual([
      [413, 'FST_ERR_CTP_BODY_TOO_LARGE'],
      [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'],
      [400, 'FST_ERR_VALIDATION'],
      [409, undefined],
      [200, undefined],
    ]);
    expect(completed[0]?.reason).toBe('Request body is too large');
    expect(completed[3]?.reason).toBe('a form with this title exists');
  });
});
