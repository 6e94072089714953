// The pure trace builder and the bounded log reader, over log lines recorded from a real chain of
// three services (edge -> mid -> leaf; test/fixtures/trace/chain, paths rewritten to /repo) and
// small synthetic cases for what the recording does not show. No process, no PM2: milliseconds.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildTrace } from '../src/trace/build';
import { findLastFailure, readRequestLines, type TraceSource } from '../src/trace/read';
import { classifyRefusal, describeRefusal } from '../src/trace/refusal';
import { renderTrace } from '../src/trace/render';
import type { TraceHop, TraceLine } from '../src/trace/types';

const chain = fileURLToPath(new URL('./fixtures/trace/chain', import.meta.url));
const root = '/repo';
const sources: TraceSource[] = ['leaf', 'mid', 'edge'].flatMap((service) => [
  { service, stream: 'out' as const, file: join(chain, `${service}.out.log`) },
  { service, stream: 'err' as const, file: join(chain, `${service}.error.log`) },
]);
const context = (now: number) => ({ root, folderOf: () => 'services/orders', now });

const SUCCEEDED = '66b276aa-a514-4553-87c0-907f36d7d62f';
const FAILED = '36fee5c4-d7a2-4052-b7d0-bb169ef6e67e';
const HUNG = '734f48bd-e2d5-4d6b-a228-70bb5c23948c';

function recorded(id: string) {
  const { lines } = readRequestLines(sources, id, root);
  return lines;
}

describe('buildTrace over recorded lines', () => {
  const rows = [
    {
      name: 'a request every hop answered 200',
      id: SUCCEEDED,
      hops: [
        ['edge', 0, '/orders/1', 200],
        ['mid', 1, '/items/1', 200],
        ['leaf', 2, '/items/1', 200],
      ],
      origin: null,
      next: /^nothing failed: the request was answered 200$/,
    },
    {
      name: 'a TypeError two hops down, relayed as 502 twice',
      id: FAILED,
      hops: [
        ['edge', 0, '/orders/999', 502],
        ['mid', 1, '/items/999', 502],
        ['leaf', 2, '/items/999', 500],
      ],
      origin: 2,
      next: /^fix services\/orders\/src\/routes\/items\.ts:15:16 \(TypeError: Cannot read properties of undefined \(reading 'count'\)\), then pnpm devctl restart leaf --wait$/,
    },
    {
      name: 'a handler that never answers, its callers timed out',
      id: HUNG,
      hops: [
        ['edge', 0, '/orders/hang', 504],
        ['mid', 1, '/items/hang', null],
        ['leaf', 2, '/items/hang', null],
      ],
      origin: 2,
      next: /^find why leaf's handler of GET \/items\/hang never answers/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const lines = recorded(row.id);
      const now = Math.max(...lines.map((line) => line.time)) + 2000;
      const trace = buildTrace(row.id, lines, context(now));
      expect(trace.hops.map((hop) => [hop.service, hop.depth, hop.url, hop.status])).toEqual(row.hops);
      expect(trace.origin).toBe(row.origin);
      expect(trace.failed).toBe(row.origin !== null);
      expect(trace.next).toMatch(row.next);
    });
  }

  it('measures how long ago an unanswered hop came in, and keeps the relays errors with their upstream', () => {
    const lines = recorded(HUNG);
    const leafStart =
      lines.find((l) => l.service === 'leaf' && l.record.msg === 'incoming request')?.time ?? 0;
    const trace = buildTrace(HUNG, lines, context(leafStart + 5000));
    expect(trace.hops[2]).toMatchObject({ completed: false, pendingMs: 5000, end: null, durationMs: null });
    expect(trace.hops[0]?.error).toMatchObject({ type: 'UpstreamError', upstream: 'inventory' });
    expect(trace.hops[1]?.error?.message).toMatch(/^inventory timed out after 1000 ms/);
    expect(trace.summary).toBe(
      'GET /orders/hang -> 504 in 1.1 s, 3 hops (edge -> mid -> leaf); failed at leaf never answered GET /items/hang (came in 5.0 s ago)',
    );
  });

  it('names the leaf error with its repository-relative location and a stack without absolute paths', () => {
    const trace = buildTrace(FAILED, recorded(FAILED), context(Date.now()));
    const error = trace.hops[2]?.error;
    expect(error).toMatchObject({
      type: 'TypeError',
      upstream: null,
      location: { file: 'services/orders/src/routes/items.ts', line: 15, column: 16 },
    });
    expect(error?.stack).toContain('at countOf (services/orders/src/routes/items.ts:15:16)');
    expect(error?.stack).not.toContain('/repo/services');
  });
});

describe('reading the logs', () => {
  it('finds only the lines of the id asked for, oldest first within each log', () => {
    const lines = recorded(FAILED);
    expect(lines.length).toBe(9);
    expect(lines.every((line) => line.record.reqId === FAILED)).toBe(true);
    // Oldest first within each log, so lines of one millisecond keep the order they were written in.
    const leafOut = lines
      .filter((line) => line.service === 'leaf' && line.stream === 'out')
      .map((line) => line.time);
    expect(leafOut).toEqual([...leafOut].sort((a, b) => a - b));
    expect(leafOut.length).toBe(2);
  });

  it('reads no further back than its byte budget, and says how far it read', () => {
    const budget = 600;
    const { lines, searched } = readRequestLines(sources, SUCCEEDED, root, budget);
    for (const log of searched) expect(log.bytes).toBeLessThan(budget + 2000);
    const size = statSync(join(chain, 'edge.out.log')).size;
    expect(
      searched.find((log) => log.service === 'edge' && log.files[0]?.endsWith('out.log'))?.bytes,
    ).toBeLessThan(size);
    // The successful request is older than the last 600 bytes of each out log.
    expect(lines.filter((line) => line.record.msg === 'incoming request')).toEqual([]);
  });

  it('--last-error: the most recent failure is the hung request (edge answered it 504 last)', () => {
    const { failure } = findLastFailure(sources, root, Date.parse('2026-12-06T08:00:00Z'));
    expect(failure).toMatchObject({ requestId: HUNG, service: 'edge', how: 'status' });
  });

  it('--last-error: an unanswered request younger than a second may be under way; older, it failed', () => {
    const leafOnly = sources.filter((source) => source.service === 'leaf');
    const came = Date.parse('2026-12-06T07:24:59.423Z');
    expect(findLastFailure(leafOnly, root, came + 200).failure).toMatchObject({
      requestId: FAILED,
      how: 'status',
    });
    expect(findLastFailure(leafOnly, root, came + 1500).failure).toMatchObject({
      requestId: HUNG,
      how: 'no-answer',
    });
  });
});

// Synthetic lines in the shapes Fastify and the kit write (see the recording above).
const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const incoming = (service: string, at: number, url: string, pid = 1): TraceLine => ({
  service,
  stream: 'out',
  time: T0 + at,
  record: { level: 30, pid, reqId: 'r', req: { method: 'GET', url }, msg: 'incoming request' },
});
const completed = (service: string, at: number, status: number, duration: number, pid = 1): TraceLine => ({
  service,
  stream: 'out',
  time: T0 + at,
  record: {
    level: 30,
    pid,
    reqId: 'r',
    res: { statusCode: status },
    responseTime: duration,
    msg: 'request completed',
  },
});
const relayError = (service: string, at: number, message: string, upstream: string): TraceLine => ({
  service,
  stream: 'err',
  time: T0 + at,
  record: { level: 50, pid: 1, reqId: 'r', err: { type: 'UpstreamError', message, upstream }, msg: message },
});

const post = (service: string, at: number, url: string): TraceLine => {
  const line = incoming(service, at, url);
  return { ...line, record: { ...line.record, req: { method: 'POST', url } } };
};
const hopOf = (service: string, status: number, code: string | null): TraceHop => ({
  service,
  method: 'POST',
  url: '/api/forms',
  status,
  reason: null,
  code,
  durationMs: 1,
  start: new Date(T0).toISOString(),
  end: new Date(T0 + 1).toISOString(),
  completed: true,
  pendingMs: null,
  pid: 1,
  depth: 0,
  error: null,
});

describe('buildTrace over synthetic lines', () => {
  it('a refused request: the deepest hop that answered the 4xx, with the reason the kit logged, not "nothing failed"', () => {
    const reason = 'invalid answers: colour: must be one of: red, blue';
    const refused = (service: string, at: number, duration: number): TraceLine => {
      const line = completed(service, at, 400, duration);
      return { ...line, record: { ...line.record, reason } };
    };
    const trace = buildTrace(
      'r',
      [
        incoming('gateway', 0, '/api/forms/1/submissions'),
        incoming('auth', 2, '/verify'),
        completed('auth', 8, 200, 6),
        incoming('form', 10, '/forms/1/submissions'),
        refused('form', 30, 20),
        refused('gateway', 32, 32),
      ],
      context(T0 + 1000),
    );
    expect(trace.failed).toBe(false);
    expect(trace.hops.map((hop) => [hop.service, hop.status, hop.reason])).toEqual([
      ['gateway', 400, reason],
      ['auth', 200, null],
      ['form', 400, reason],
    ]);
    expect(trace.summary).toContain(`refused by form (400: ${reason})`);
    expect(trace.next).toContain("read the rule in form's handler of GET /forms/1/submissions");
    expect(renderTrace({ ...trace, searched: [] })).toContain(`refused: ${reason}`);
    // Without the kit's reason (an older log): still where, without why.
    const bare = buildTrace(
      'r',
      [
        incoming('gateway', 0, '/x'),
        incoming('form', 2, '/y'),
        completed('form', 5, 404, 3),
        completed('gateway', 6, 404, 6),
      ],
      context(T0 + 1000),
    );
    expect(bare.summary).toContain('refused by form (404)');
  });

  it.each([
    // [code logged, status, who refused, words the next step must hold]
    [undefined, 400, 'handler', "read the rule in form's handler of POST /forms"],
    ['FST_ERR_VALIDATION', 400, 'schema', 'read the schema form declares for POST /forms'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'framework', "form's body limit is a setting"],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'framework', 'no content-type parser'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'framework', 'has no body'],
    [
      'FST_ERR_SOMETHING_NEW',
      400,
      'framework',
      'Fastify or a plugin answered it before the handler (code FST_ERR_SOMETHING_NEW)',
    ],
    [undefined, 429, 'framework', "form's rate limit is a setting"],
  ] as const)('a %s %i refusal is told as refused by the %s', (code, status, by, words) => {
    const answer = completed('form', 20, status, 10);
    const trace = buildTrace(
      'r',
      [
        post('gateway', 0, '/api/forms'),
        post('form', 10, '/forms'),
        { ...answer, record: { ...answer.record, reason: 'why', ...(code ? { code } : {}) } },
        completed('gateway', 22, status, 22),
      ],
      context(T0 + 1000),
    );
    expect(trace.refusal).toMatchObject({ service: 'form', status, code: code ?? null, by, hop: 1 });
    expect(trace.hops[1]?.code).toBe(code ?? null);
    expect(trace.next).toContain(words);
    // Only a handler's rule sends the reader to the handler.
    expect(trace.next.includes("form's handler")).toBe(by === 'handler');
    if (by === 'framework')
      expect(trace.summary).toContain('refused by Fastify in form before any handler ran');
  });

  it('a framework refusal with its setting found names the variable, its value and where it is set', () => {
    const refusal = classifyRefusal(
      { ...hopOf('api-gateway', 413, 'FST_ERR_CTP_BODY_TOO_LARGE'), reason: 'Request body is too large' },
      0,
    );
    refusal.variables = [
      {
        name: 'BODY_LIMIT_BYTES',
        value: '1024',
        source: 'service .env',
        place: 'services/api-gateway/.env:3',
        default: '102400',
      },
    ];
    const { next } = describeRefusal(refusal, { method: 'POST', url: '/api/forms' });
    expect(next).toBe(
      "not a handler's rule: the body is larger than the service's body limit; api-gateway's body limit is BODY_LIMIT_BYTES=1024 (services/api-gateway/.env:3; default 102400). If the request was right, change that setting and restart api-gateway; its effective value and source: pnpm devctl env api-gateway",
    );
  });

  it('a slow handler: its caller timed out, it answered 200 later; the slow one is the origin', () => {
    const trace = buildTrace(
      'r',
      [
        incoming('gateway', 0, '/api/forms/1'),
        incoming('form', 5, '/forms/1'),
        relayError('form', 5010, 'data timed out after 5000 ms at 127.0.0.1:3004', 'data'),
        completed('form', 5012, 504, 5007),
        incoming('data', 10, '/forms/1'),
        completed('data', 8010, 200, 8000),
        completed('gateway', 5015, 502, 5015),
      ],
      context(T0 + 9000),
    );
    expect(trace.hops.map((hop) => [hop.service, hop.depth, hop.status])).toEqual([
      ['gateway', 0, 502],
      ['form', 1, 504],
      ['data', 2, 200],
    ]);
    expect(trace.hops[trace.origin ?? -1]?.service).toBe('data');
    expect(trace.summary).toContain(
      'failed at data took 8.0 s to answer GET /forms/1; its caller had given up',
    );
  });

  it('sibling calls sit at the same depth; a hop whose request line is gone starts at its answer less its duration', () => {
    const trace = buildTrace(
      'r',
      [
        completed('gateway', 300, 200, 300),
        incoming('auth', 10, '/verify'),
        completed('auth', 20, 200, 10),
        incoming('form', 30, '/forms'),
        completed('form', 290, 200, 260),
      ],
      context(T0 + 1000),
    );
    expect(trace.hops.map((hop) => [hop.service, hop.depth, hop.start])).toEqual([
      ['gateway', 0, new Date(T0).toISOString()],
      ['auth', 1, new Date(T0 + 10).toISOString()],
      ['form', 1, new Date(T0 + 30).toISOString()],
    ]);
    expect(trace.hops[0]).toMatchObject({ method: null, url: null, completed: true });
    expect(trace.failed).toBe(false);
  });

  it('a process that died during the request: the hop of the old pid never answered, the new pid is not it', () => {
    const trace = buildTrace(
      'r',
      [
        incoming('gateway', 0, '/api/x'),
        incoming('form', 5, '/x', 41),
        completed('gateway', 40, 502, 40),
        completed('form', 30, 200, 1, 42),
      ],
      context(T0 + 3000),
    );
    const forms = trace.hops.filter((hop) => hop.service === 'form');
    expect(forms.map((hop) => [hop.pid, hop.completed])).toEqual([
      [41, false],
      [42, true],
    ]);
    expect(trace.hops[trace.origin ?? -1]).toMatchObject({ service: 'form', pid: 41, completed: false });
  });

  it('with LOG_LEVEL above info only errors are logged: whether a hop answered is unknown, the own error is the origin', () => {
    const typeError: TraceLine = {
      service: 'form',
      stream: 'err',
      time: T0 + 20,
      record: {
        level: 50,
        pid: 1,
        reqId: 'r',
        method: 'POST',
        url: '/forms/1/submissions',
        err: {
          type: 'TypeError',
          message: 'x is undefined',
          stack: 'TypeError: x is undefined\n    at save (/repo/services/form/src/store.ts:9:3)',
        },
        msg: 'unhandled error in POST /forms/1/submissions',
      },
    };
    const trace = buildTrace(
      'r',
      [
        relayError('gateway', 50, 'form-service failed: 500 internal server error', 'form-service'),
        typeError,
      ],
      { root: '/repo', folderOf: (service) => `services/${service}`, now: T0 + 60_000 },
    );
    expect(trace.hops.map((hop) => [hop.service, hop.completed, hop.pendingMs, hop.depth])).toEqual([
      ['form', false, null, 0],
      ['gateway', false, null, 0],
    ]);
    expect(trace.hops[trace.origin ?? -1]?.service).toBe('form');
    expect(trace.summary).toContain(
      'failed at form failed on POST /forms/1/submissions: TypeError: x is undefined at services/form/src/store.ts:9:3',
    );
    expect(trace.next).toBe(
      'fix services/form/src/store.ts:9:3 (TypeError: x is undefined), then pnpm devctl restart form --wait',
    );
  });
});
