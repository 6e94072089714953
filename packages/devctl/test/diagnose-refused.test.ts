// Requests refused again and again for one reason (trial 4: JWT_TTL=1s in services/auth/.env; every
// call after login answered 401 "token expired" and diagnose said "stack healthy"): a warning with
// the reason, the tokens' lifetime, and the settings set in .env files of the refusing service and
// of the service it shares its mustMatch key with. The gateway's real log lines, as it writes them
// (api-gateway/src/authenticate.ts; test/auth-refusal-log.test.ts there holds their shape).
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import type { ResolvedVariable, ServiceConfig } from '../src/diagnose/config-snapshot';
import { decidingServices, detectRefusals } from '../src/diagnose/detectors/refused';
import type { LogLine } from '../src/diagnose/log-tail';
import { type SourceChange, withRefusalChanges } from '../src/diagnose/upstream-change';
import { diagnoseSnapshot, onlineService } from './diagnose-recorded';

const at = (clock: string) => Date.parse(`2026-12-06T${clock}Z`);

function refusalLine(clock: string, reason: string, lifetime?: number): LogLine {
  const record: Record<string, unknown> = {
    level: 40,
    time: at(clock),
    service: 'api-gateway',
    pid: 17248,
    reqId: `req-${clock}`,
    authRefusal: reason,
    ...(lifetime === undefined ? {} : { tokenLifetimeS: lifetime }),
    msg: `token refused: ${reason}${lifetime === undefined ? '' : ` (the token was issued to live ${lifetime} s)`}`,
  };
  return { time: at(clock), stream: 'out', text: JSON.stringify(record), structured: true, record };
}

function variable(
  name: string,
  value: string,
  source: string,
  file: string,
  line: number | null,
  mustMatch?: string,
): ResolvedVariable {
  return { name, value, source, place: { file, line }, ...(mustMatch ? { mustMatch } : {}) };
}

const configs = (authTtl: 'default' | '1s' | 'ecosystem'): Map<string, ServiceConfig> =>
  new Map([
    [
      'api-gateway',
      {
        service: 'api-gateway',
        variables: new Map([
          ['PORT', variable('PORT', '3000', 'default', 'services/api-gateway/src/config.ts', null)],
          [
            'JWT_SECRET',
            variable('JWT_SECRET', '****', 'default', '.secrets/jwt-secret', null, 'jwt-signing-key'),
          ],
        ]),
      },
    ],
    [
      'auth-service',
      {
        service: 'auth-service',
        variables: new Map([
          [
            'JWT_SECRET',
            variable('JWT_SECRET', '****', 'default', '.secrets/jwt-secret', null, 'jwt-signing-key'),
          ],
          [
            'JWT_TTL',
            authTtl === '1s'
              ? variable('JWT_TTL', '1s', 'service .env', 'services/auth/.env', 1)
              : authTtl === 'ecosystem'
                ? { ...variable('JWT_TTL', '1m', 'process', 'ecosystem.config.js', 105), default: '1h' }
                : variable('JWT_TTL', '3600', 'default', 'services/auth/src/config.ts', null),
          ],
          // The wiring ecosystem.config.js gives every service: never a lead.
          ['PORT', { ...variable('PORT', '3003', 'process', 'ecosystem.config.js', 104), default: '3000' }],
        ]),
      },
    ],
    ['email-service', { service: 'email-service', variables: new Map() }],
  ]);

function snapshotOf(
  lines: LogLine[],
  options: { authTtl?: 'default' | '1s' | 'ecosystem'; authSince?: number; config?: boolean } = {},
) {
  const service = (name: string, folder: string, since: number, own: LogLine[]) =>
    onlineService({
      name,
      folder,
      dependsOn: name === 'api-gateway' ? ['auth-service'] : [],
      lines: own,
      since,
    });
  return {
    ecosystem: { root: '/repo', services: [] },
    now: at('10:30:00'),
    pm2Home: '/tmp/pm2',
    daemonRunning: true,
    selected: new Set(['api-gateway', 'auth-service']),
    external: new Map(),
    services: [
      service('api-gateway', 'services/api-gateway', at('10:25:59'), lines),
      service('auth-service', 'services/auth', options.authSince ?? at('10:26:26'), []),
    ],
    ...(options.config === false
      ? {}
      : {
          config: { runs: [], configs: configs(options.authTtl ?? '1s'), envFiles: new Map(), elapsedMs: 1 },
        }),
  } as unknown as Snapshot;
}

const expiredTwice = [
  refusalLine('10:26:40.100', 'token expired, log in again', 1),
  refusalLine('10:26:41.200', 'token expired, log in again', 1),
];

describe('requests refused again and again', () => {
  it('short-lived tokens refused as expired: a warning with the lifetime and the .env setting that differs', () => {
    const findings = diagnoseSnapshot(snapshotOf(expiredTwice));
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding).toMatchObject({ kind: 'requests-refused', service: 'api-gateway', severity: 'warning' });
    expect(finding?.summary).toBe(
      'api-gateway refused 2 requests since 10:26:40 (last at 10:26:41): token expired, log in again: the tokens were issued to live only 1 s',
    );
    const settings = finding?.evidence.find((e) => e.stream === 'system')?.text;
    expect(settings).toBe(
      'settings of api-gateway, auth-service set in .env files or ecosystem.config.js (not defaults): auth-service: JWT_TTL=1s (services/auth/.env:1)',
    );
    expect(finding?.next).toMatch(/pnpm devctl env api-gateway auth-service/);
    expect(finding?.next).toMatch(/pnpm devctl restart auth-service --wait$/);
    // The gateway's own lines are the evidence.
    expect(finding?.evidence.filter((e) => /token refused: token expired/.test(e.text))).toHaveLength(2);
  });

  it('one refusal is a user with an old token: no finding', () => {
    expect(detectRefusals(snapshotOf(expiredTwice.slice(1)))).toEqual([]);
  });

  it('tokens that lived a usable time and expired later are not a fault', () => {
    const lines = [
      refusalLine('10:27:00.000', 'token expired, log in again', 3600),
      refusalLine('10:28:00.000', 'token expired, log in again', 3600),
      refusalLine('10:29:00.000', 'token expired, log in again', 3600),
    ];
    expect(detectRefusals(snapshotOf(lines, { authTtl: 'default' }))).toEqual([]);
  });

  it('refusals from before the issuer restarted (on a fixed .env) are history', () => {
    expect(
      detectRefusals(snapshotOf(expiredTwice, { authTtl: 'default', authSince: at('10:28:00') })),
    ).toEqual([]);
  });

  it('other repeated reasons are findings too, and with every setting at its default it says so', () => {
    const lines = [
      refusalLine('10:27:00.000', 'invalid token (claim "iss" not accepted)'),
      refusalLine('10:27:05.000', 'invalid token (claim "iss" not accepted)'),
    ];
    const [finding, ...others] = detectRefusals(snapshotOf(lines, { authTtl: 'default' }));
    expect(others).toEqual([]);
    expect(finding?.summary).toMatch(
      /refused 2 requests since 10:27:00 .*: invalid token \(claim "iss" not accepted\)$/,
    );
    expect(finding?.evidence.at(-1)?.text).toBe(
      'no setting of api-gateway, auth-service is set in a .env file or ecosystem.config.js: all are defaults',
    );
  });

  it("a setting in the app's env in ecosystem.config.js decides too (trial 19: JWT_TTL '1m' there)", () => {
    const [finding] = detectRefusals(snapshotOf(expiredTwice, { authTtl: 'ecosystem' }));
    expect(finding?.evidence.at(-1)?.text).toBe(
      'settings of api-gateway, auth-service set in .env files or ecosystem.config.js (not defaults): auth-service: JWT_TTL=1m (ecosystem.config.js:105)',
    );
  });

  it('without the configuration checked, it names the refusing service only', () => {
    const [finding] = detectRefusals(snapshotOf(expiredTwice, { config: false }));
    expect(finding?.next).toMatch(/^pnpm devctl env api-gateway \(what decides/);
    // ...and a restart of a service it depends on makes earlier refusals history.
    expect(detectRefusals(snapshotOf(expiredTwice, { config: false, authSince: at('10:28:00') }))).toEqual(
      [],
    );
  });
});

describe('requests refused after a change in the code of a service that decides them', () => {
  // Trial 12: auth-service's commit changed the token issuer in its code; the gateway refused every
  // token with "claim iss not accepted", and every setting was a default.
  const lines = [
    refusalLine('10:27:00.000', 'invalid token (claim "iss" not accepted)'),
    refusalLine('10:27:05.000', 'invalid token (claim "iss" not accepted)'),
  ];
  const commit = (folder: string, clock: string, file: string): SourceChange => ({
    file: `${folder}/src/${file}`,
    time: at(clock),
    what: `commit 1719f02 "auth: issue tokens with an https issuer URL"`,
    command: `git show 1719f02 -- ${folder}/src/${file}`,
  });
  const withChanges = (changes: Record<string, SourceChange[]>) => {
    const snapshot = snapshotOf(lines, { authTtl: 'default', authSince: at('10:20:00') });
    return withRefusalChanges(
      snapshot,
      diagnoseSnapshot(snapshot),
      (service) => decidingServices(snapshot, service),
      { changesUnder: (folder) => changes[folder] ?? [] },
    );
  };

  it('names the newest change of the issuer, before the refusals, and leads with its command', () => {
    const [finding] = withChanges({
      'services/auth': [commit('services/auth', '10:19:00', 'tokens.ts')],
      'services/api-gateway': [commit('services/api-gateway', '07:00:00', 'authenticate.ts')],
    });
    expect(finding?.summary).toMatch(
      /; the newest change in the code of auth-service, which decides it with api-gateway: services\/auth\/src\/tokens\.ts 11 min ago \(commit 1719f02 "auth: issue tokens with an https issuer URL"\)$/,
    );
    expect(finding?.next).toMatch(
      /^read the newest change in what decides it first: git show 1719f02 -- services\/auth\/src\/tokens\.ts; or pnpm devctl env api-gateway auth-service/,
    );
  });

  it('a change after the refusals (a fix being tried) or older than a day is no lead', () => {
    for (const clock of ['10:28:00', '2026-12-05T09:00:00']) {
      const change = commit('services/auth', clock.includes('T') ? '00:00:00' : clock, 'tokens.ts');
      if (clock.includes('T')) change.time = Date.parse(`${clock}Z`);
      const [finding] = withChanges({ 'services/auth': [change] });
      expect(finding?.summary).not.toContain('newest change');
      expect(finding?.next).toMatch(/^pnpm devctl env api-gateway auth-service/);
    }
  });
});
