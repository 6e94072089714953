// Requests that never complete on several routes of one service (trial 17: an onRequest hook added to
// form-service never called done() for requests with a user id; GET /forms and POST /forms hung, and
// diagnose gave one finding per route whose where: was that route's handler, none of them the
// fault). One finding, no where:, saying what the routes share; the service's newest change leads.
// The services' real log lines, as PM2 wrote them (root made a placeholder).
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import { parseLogLines } from '../src/diagnose/log-tail';
import { type SourceChange, withOwnChangeLeads } from '../src/diagnose/upstream-change';
import { diagnoseSnapshot, onlineService } from './diagnose-recorded';

const at = (clock: string) => Date.parse(`2026-12-07T${clock}Z`);

const line = (service: string, pid: number, clock: string, fields: Record<string, unknown>) =>
  `2026-12-07T${clock.slice(0, 8)}: ${JSON.stringify({ level: 30, time: new Date(at(clock)).toISOString(), service, pid, ...fields })}`;

const incoming = (service: string, pid: number, clock: string, id: string, method: string, url: string) =>
  line(service, pid, clock, {
    reqId: id,
    req: { method, url, host: '127.0.0.1:3401' },
    msg: 'incoming request',
  });

const completed = (service: string, pid: number, clock: string, id: string, status: number, ms: number) =>
  line(service, pid, clock, {
    reqId: id,
    res: { statusCode: status },
    responseTime: ms,
    msg: 'request completed',
  });

/** The gateway's error for a request form-service never answered, as the kit's client reports it. */
const timedOut = (clock: string, id: string, method: string, url: string) =>
  `2026-12-07T${clock.slice(0, 8)}: ${JSON.stringify({
    level: 50,
    time: new Date(at(clock)).toISOString(),
    service: 'api-gateway',
    pid: 8141,
    reqId: id,
    err: {
      type: 'UpstreamError',
      message: 'form-service timed out after 5000 ms at 127.0.0.1:3401',
      stack:
        'UpstreamError: form-service timed out after 5000 ms at 127.0.0.1:3401\n    at noAnswerError (/repo/packages/service-kit/src/http-client.ts:46:12)\n    at request (/repo/packages/service-kit/src/http-client.ts:93:13)\n    at async Object.<anonymous> (/repo/services/api-gateway/src/routes/forms.ts:28:18)',
      statusCode: 504,
      details: { upstream: 'form-service', code: 'ETIMEDOUT' },
      name: 'UpstreamError',
      upstream: 'form-service',
      code: 'ETIMEDOUT',
    },
    method,
    url,
    msg: 'form-service timed out after 5000 ms at 127.0.0.1:3401',
  })}`;

const GET = '41313fc9-70cc-4a6b-8b8f-2820c0f38fd6';
const POST = '94e27da9-e003-4c3c-8da4-6e39bd2f6384';
const PUBLIC = '0a7e2f10-3c5d-4e6f-8a9b-0c1d2e3f4a5b';

function snapshotOf(form: string[], gateway: string[]): Snapshot {
  const now = at('04:16:21');
  return {
    ecosystem: { root: '/repo', services: [] },
    now,
    pm2Home: '/tmp/pm2',
    daemonRunning: true,
    selected: new Set(['form-service', 'api-gateway']),
    external: new Map(),
    services: [
      {
        ...onlineService({
          name: 'form-service',
          folder: 'services/form',
          lines: parseLogLines(form, 'out', now),
          since: at('04:16:07'),
        }),
        process: { pid: 24563, name: 'form-service', restarts: 0 },
      },
      onlineService({
        name: 'api-gateway',
        folder: 'services/api-gateway',
        dependsOn: ['form-service'],
        lines: parseLogLines(gateway, 'out', now),
        since: at('04:00:00'),
      }),
    ],
  } as unknown as Snapshot;
}

const commit: SourceChange = {
  file: 'services/form/src/app.ts',
  time: at('04:10:50'),
  what: 'commit e61db29 "form-service: tag the log lines of owner requests with the user id"',
  command: 'git show e61db29 -- services/form/src/app.ts',
};

describe('requests hung on several routes of one service', () => {
  const form = [
    incoming('form-service', 24563, '04:16:09.246', GET, 'GET', '/forms'),
    incoming('form-service', 24563, '04:16:14.285', POST, 'POST', '/forms'),
    // A public route of the same service answers: not every request hangs.
    incoming('form-service', 24563, '04:16:15.100', PUBLIC, 'GET', '/forms/01a2/public'),
    completed('form-service', 24563, '04:16:15.112', PUBLIC, 200, 11.8),
  ];
  const gateway = [
    timedOut('04:16:14.245', GET, 'GET', '/api/forms'),
    timedOut('04:16:19.285', POST, 'POST', '/api/forms'),
  ];

  it('one finding with no where:, naming the routes and what they share, the callers folded in', () => {
    const findings = diagnoseSnapshot(snapshotOf(form, gateway));
    const hangs = findings.filter((f) => f.kind === 'slow-request');
    expect(hangs).toHaveLength(1);
    const [hang] = hangs;
    expect(hang).toMatchObject({ service: 'form-service', severity: 'error', location: null });
    expect(hang?.summary).toMatch(
      /^form-service never answered requests on 2 routes \(GET \/forms, POST \/forms\): 2 came in since 04:16:09 with no "request completed" while the process runs; its callers give up after 5000 ms\. Requests on different routes hang alike, so what holds them is not one handler but what they pass through: a hook \(onRequest, preHandler\) that never calls done\(\) or never resolves/,
    );
    expect(hang?.evidence.map((e) => e.text)).toEqual(
      expect.arrayContaining([
        `incoming request GET /forms (request ${GET})`,
        `incoming request POST /forms (request ${POST})`,
      ]),
    );
    expect(hang?.next).toMatch(
      /^find what every request of form-service passes through before its handler \(the hooks and plugins where its app is set up, in services\/form\/src; pnpm devctl trace 94e27da9-e003-4c3c-8da4-6e39bd2f6384 /,
    );
    // The gateway's 504s are the hang's, not a finding of their own.
    expect(findings.filter((f) => f.service === 'api-gateway')).toEqual([]);
  });

  it("leads with the service's newest change made before the hang", () => {
    const snapshot = snapshotOf(form, gateway);
    const findings = withOwnChangeLeads(snapshot, diagnoseSnapshot(snapshot), {
      changesUnder: (folder) => (folder === 'services/form' ? [commit] : []),
    });
    expect(findings.find((f) => f.kind === 'slow-request')?.next).toMatch(
      /^start from form-service's newest change, commit e61db29 "form-service: tag the log lines of owner requests with the user id" \d+ min ago: git show e61db29 -- services\/form\/src\/app\.ts; then find what every request of form-service passes through/,
    );
  });

  it('one route hung: a finding of that route, as before', () => {
    const findings = diagnoseSnapshot(snapshotOf(form.slice(0, 1), gateway.slice(0, 1)));
    const [hang] = findings.filter((f) => f.kind === 'slow-request');
    expect(hang?.summary).toMatch(
      /^form-service did not answer GET \/forms within the 5000 ms its caller waits/,
    );
    expect(hang?.next).toMatch(/^find what the handler of GET \/forms waits on/);
  });
});
