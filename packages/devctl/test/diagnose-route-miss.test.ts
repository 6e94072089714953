// A call between the stack's services to a route the called service does not have (trial 13: a
// commit moved data-service's GET /users/by-email/:email to a query string; auth-service kept the old
// path, read the 404 as "no such user", and every login answered 401 "wrong email or password", with
// no log line above info anywhere: diagnose said nothing was wrong). The real lines of both services,
// as they wrote them.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import { decidingServices, detectRouteMisses } from '../src/diagnose/detectors/refused';
import { parseLogLines } from '../src/diagnose/log-tail';
import { withRefusalChanges } from '../src/diagnose/upstream-change';
import { diagnoseSnapshot, onlineService } from './diagnose-recorded';

const at = (clock: string) => Date.parse(`2026-12-07T${clock}Z`);
const line = (clock: string, record: Record<string, unknown>) =>
  `2026-12-07T${clock.slice(0, 8)}: ${JSON.stringify({ level: 30, time: new Date(at(clock)).toISOString(), ...record })}`;

/** One request: `caller` gets `incoming` and asks `data-service` for `path`, which answers `status` with `reason`. */
function request(id: string, clock: string, caller: string, incoming: string, path: string, reason?: string) {
  const [method, url] = incoming.split(' ') as [string, string];
  const t = at(clock);
  const c = (ms: number) => new Date(t + ms).toISOString().slice(11, 23);
  return {
    caller: [
      line(c(0), { service: caller, pid: 6771, reqId: id, req: { method, url }, msg: 'incoming request' }),
      line(c(20), {
        service: caller,
        pid: 6771,
        reqId: id,
        res: { statusCode: 401 },
        msg: 'request completed',
      }),
    ],
    data: [
      line(c(5), {
        service: 'data-service',
        pid: 29700,
        reqId: id,
        req: { method: 'GET', url: path },
        msg: 'incoming request',
      }),
      line(c(7), {
        service: 'data-service',
        pid: 29700,
        reqId: id,
        res: { statusCode: 404 },
        ...(reason ? { reason } : {}),
        msg: 'request completed',
      }),
    ],
  };
}

function snapshotOf(
  requests: ReturnType<typeof request>[],
  options: { callerSince?: number; caller?: string } = {},
): Snapshot {
  const caller = options.caller ?? 'auth-service';
  const service = (name: string, folder: string, dependsOn: string[], raw: string[], since: number) =>
    onlineService({ name, folder, dependsOn, lines: parseLogLines(raw, 'out', at('01:50:00')), since });
  return {
    ecosystem: { root: '/repo', services: [] },
    now: at('01:50:00'),
    pm2Home: '/tmp/pm2',
    daemonRunning: true,
    selected: new Set(['data-service', caller]),
    external: new Map(),
    services: [
      service(
        'data-service',
        'services/data',
        [],
        requests.flatMap((r) => r.data),
        at('01:30:00'),
      ),
      service(
        caller,
        caller === 'api-gateway' ? 'services/api-gateway' : 'services/auth',
        ['data-service'],
        requests.flatMap((r) => r.caller),
        options.callerSince ?? at('01:40:00'),
      ),
    ],
  } as unknown as Snapshot;
}

const miss = (id: string, clock: string, email: string) =>
  request(
    id,
    clock,
    'auth-service',
    'POST /login',
    `/users/by-email/${email}`,
    `route GET /users/by-email/${email} not found`,
  );

describe('a call to a route the called service does not have', () => {
  const logins = [
    miss('a1', '01:43:58.000', 'ada%40example.com'),
    miss('a2', '01:44:30.000', 'bob%40example.com'),
  ];

  it('is an error of the called service naming the caller, the route and how often', () => {
    const findings = diagnoseSnapshot(snapshotOf(logins));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'requests-refused',
      service: 'data-service',
      severity: 'error',
      affects: ['auth-service'],
      requestId: 'a2',
    });
    expect(findings[0]?.summary).toBe(
      "auth-service called GET /users/by-email/:value on data-service, which has no such route: data-service answered 404 2 times since 01:43:58 (last at 01:44:30); the caller and data-service's routes disagree",
    );
  });

  it("leads with the newest change of either side: here the called service's commit", () => {
    const snapshot = snapshotOf(logins);
    const [finding] = withRefusalChanges(
      snapshot,
      diagnoseSnapshot(snapshot),
      (s) => decidingServices(snapshot, s),
      {
        changesUnder: (folder) =>
          folder === 'services/data'
            ? [
                {
                  file: 'services/data/src/routes/users.ts',
                  time: at('01:33:00'),
                  what: 'commit a77fd59 "data: take the email of GET /users/by-email from the query string"',
                  command: 'git show a77fd59 -- services/data/src/routes/users.ts',
                },
              ]
            : [
                {
                  file: 'services/auth/src/users.ts',
                  time: at('01:00:00'),
                  what: 'commit 1111111 "auth: older"',
                  command: 'git show 1111111 -- services/auth/src/users.ts',
                },
              ],
      },
    );
    expect(finding?.next).toMatch(
      /^read the newest change in what decides it first: git show a77fd59 -- services\/data\/src\/routes\/users\.ts; /,
    );
  });

  it('a "not found" of a record (no route miss) is no finding', () => {
    const found = request(
      'b1',
      '01:45:00.000',
      'auth-service',
      'POST /login',
      '/users/by-email/x%40y.z',
      'user x@y.z not found',
    );
    expect(detectRouteMisses(snapshotOf([found]))).toEqual([]);
  });

  it("a user's URL passed on as it came (the gateway's forward) is no finding", () => {
    const forwarded = request(
      'c1',
      '01:45:00.000',
      'api-gateway',
      'GET /api/users/by-emial/x',
      '/users/by-emial/x',
      'route GET /users/by-emial/x not found',
    );
    expect(detectRouteMisses(snapshotOf([forwarded], { caller: 'api-gateway' }))).toEqual([]);
  });

  it('misses from before a caller restarted are history', () => {
    expect(detectRouteMisses(snapshotOf(logins, { callerSince: at('01:45:00') }))).toEqual([]);
  });
});
