// The pure decisions of the config detectors, as tables: which shared settings disagree, which
// service URLs miss their service's port, where a variable is set, and what config-on-disk reports
// for a service in each state. The live behaviour is in diagnose-config.test.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceOfUrlVariable } from '@repo/stack-contract';
import { tempDir } from '@repo/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceSnapshot, Snapshot } from '../src/diagnose/collect';
import { placeOf } from '../src/diagnose/config-snapshot';
import {
  detectConfigConsistency,
  identityOf,
  type SharedMember,
  sharedMismatches,
  urlMismatches,
  withPort,
} from '../src/diagnose/detectors/config-consistency';
import { detectConfigErrors } from '../src/diagnose/detectors/config-error';
import { detectConfigOnDisk, maskProblem } from '../src/diagnose/detectors/config-on-disk';
import type { ServiceEntry } from '../src/ecosystem/index';
import type { DryRun } from '../src/ecosystem/print-config';
import { shortHashOf } from '../src/output/mask';

const at = (file: string, line: number | null = 1) => ({ file, line });
const member = (service: string, extra: Partial<SharedMember>): SharedMember => ({
  service,
  variable: 'JWT_SECRET',
  group: 'jwt',
  place: at(`services/${service}/.env`),
  // Set when it has a hash of its own and no fallback hash was given (see the cases).
  set: extra.set ?? (extra.hash !== undefined && extra.fallback === undefined),
  ...extra,
});

describe('shared settings (mustMatch): who disagrees', () => {
  it.each([
    [
      'the same hash',
      [member('auth', { hash: 'sha256:aaaaaaaa' }), member('gw', { hash: 'sha256:aaaaaaaa' })],
      0,
    ],
    [
      'different hashes',
      [member('auth', { hash: 'sha256:aaaaaaaa' }), member('gw', { hash: 'sha256:bbbbbbbb' })],
      1,
    ],
    [
      'both unset, falling back to one development secret not generated yet',
      [member('auth', { fallback: '.secrets/jwt' }), member('gw', { fallback: '.secrets/jwt' })],
      0,
    ],
    [
      'one set, the other falls back to a secret not generated yet (it will be random)',
      [member('auth', { hash: 'sha256:aaaaaaaa' }), member('gw', { fallback: '.secrets/jwt' })],
      1,
    ],
    [
      'one set to exactly the development secret the other falls back to',
      [
        member('auth', { hash: 'sha256:aaaaaaaa' }),
        member('gw', { fallback: '.secrets/jwt', hash: 'sha256:aaaaaaaa' }),
      ],
      0,
    ],
    [
      'one set, one unset without a fallback',
      [member('auth', { hash: 'sha256:aaaaaaaa' }), member('gw', {})],
      1,
    ],
    [
      'two groups, only one disagreeing',
      [
        member('auth', { hash: 'sha256:aaaaaaaa' }),
        member('gw', { hash: 'sha256:aaaaaaaa' }),
        member('a', { group: 'other', variable: 'HMAC_KEY', hash: 'sha256:11111111' }),
        member('b', { group: 'other', variable: 'HMAC_KEY', hash: 'sha256:22222222' }),
      ],
      1,
    ],
    ['a group of one', [member('auth', { hash: 'sha256:aaaaaaaa' })], 0],
  ])('%s', (_what, members, count) => {
    expect(sharedMismatches(members)).toHaveLength(count);
  });

  it('puts the side more services take first', () => {
    const [mismatch] = sharedMismatches([
      member('a', { hash: 'sha256:aaaaaaaa' }),
      member('b', { hash: 'sha256:bbbbbbbb' }),
      member('c', { hash: 'sha256:aaaaaaaa' }),
    ]);
    expect(mismatch?.sides.map((side) => side.map((m) => m.service))).toEqual([['a', 'c'], ['b']]);
    expect(identityOf(member('x', { fallback: '.secrets/jwt' }))).toBe('fallback:.secrets/jwt');
  });
});

describe('service URLs against the port their service listens on', () => {
  const listeners = [
    { service: 'auth-service', port: 3003, place: at('ecosystem.config.js', 85) },
    { service: 'billing', port: 4200, place: null },
  ];
  const url = (variable: string, value: string, service = 'api-gateway') => ({
    service,
    variable,
    value,
    place: at('services/api-gateway/.env', 3),
  });

  it.each([
    ['the right port', url('AUTH_SERVICE_URL', 'http://127.0.0.1:3003'), null],
    ['another port on this machine', url('AUTH_SERVICE_URL', 'http://127.0.0.1:3999'), 3999],
    ['localhost, another port', url('AUTH_SERVICE_URL', 'http://localhost:3999/'), 3999],
    ['no port: 80', url('AUTH_SERVICE_URL', 'http://127.0.0.1'), 80],
    ['another machine: not this stack', url('AUTH_SERVICE_URL', 'http://auth.internal:3999'), null],
    ['a generated route variable (BILLING_URL)', url('BILLING_URL', 'http://127.0.0.1:4201'), 4201],
    ['a service the stack does not have', url('FORM_SERVICE_URL', 'http://127.0.0.1:1'), null],
    ['not a URL', url('AUTH_SERVICE_URL', 'not a url'), null],
    ['its own URL', url('AUTH_SERVICE_URL', 'http://127.0.0.1:1', 'auth-service'), null],
  ])('%s', (_what, setting, port) => {
    const found = urlMismatches([setting], listeners);
    expect(found.map((m) => m.port)).toEqual(port === null ? [] : [port]);
  });

  it.each([
    ['AUTH_SERVICE_URL', 'auth-service'],
    ['BILLING_URL', 'billing'],
    ['DATA_SERVICE_URL', undefined],
    ['AUTH_SERVICE_HOST', undefined],
  ])('%s names %s', (variable, target) => {
    expect(serviceOfUrlVariable(variable, ['auth-service', 'billing'])).toBe(target);
  });

  it.each([
    ['http://127.0.0.1:3999', 'http://127.0.0.1:3003'],
    ['http://127.0.0.1:3999/', 'http://127.0.0.1:3003/'],
    ['http://localhost/api', 'http://localhost:3003/api'],
  ])('%s with the right port is %s', (before, after) => {
    expect(withPort(before, 3003)).toBe(after);
  });
});

const scratch = tempDir('devctl-config-rules-');
afterAll(() => scratch.cleanup());
const root = scratch.path;
mkdirSync(join(root, 'services', 'auth', 'src'), { recursive: true });
writeFileSync(join(root, '.env'), '# root\nLOG_LEVEL=debug\n');
writeFileSync(join(root, 'services', 'auth', '.env'), '# auth\n\nexport JWT_SECRET=x\nJWT_TTL=forever\n');
writeFileSync(
  join(root, 'services', 'auth', 'src', 'config.ts'),
  'export const configSchema = baseConfigSchema(3003).extend({\n  JWT_TTL: duration.default(3600),\n});\n',
);
writeFileSync(
  join(root, 'ecosystem.config.js'),
  "module.exports = { apps: [\n  { name: 'data-service', env: { PORT: '3004' } },\n  { name: 'auth-service',\n    env: { PORT: '3003' } },\n] };\n",
);

const entry = (name: string, folder: string, env: Record<string, string> = {}): ServiceEntry => ({
  name,
  namespace: 'x',
  cwd: join(root, folder),
  folder,
  script: 'dist/index.js',
  port: 3003,
  outFile: '',
  errorFile: '',
  dependsOn: [],
  env,
  kind: 'service',
  app: {},
});
const auth = entry('auth-service', 'services/auth', { PORT: '3003' });

describe('where a variable is set', () => {
  it.each([
    ['JWT_SECRET', 'service .env', at('services/auth/.env', 3)],
    ['LOG_LEVEL', 'root .env', at('.env', 2)],
    ['PORT', 'process', at('ecosystem.config.js', 4)],
    ['NODE_ENV', 'process', { file: "devctl's environment (the shell)", line: null }],
    ['JWT_TTL', 'default', at('services/auth/src/config.ts', 2)],
    ['PORT', 'default', at('services/auth/src/config.ts', 1)],
  ])('%s from %s', (name, source, place) => {
    expect(placeOf(root, auth, name, source)).toEqual(place);
  });
});

describe('config on disk: what is reported for a service in each state', () => {
  const refused: DryRun = {
    service: auth,
    outcome: 'refused',
    problems: [
      {
        name: 'JWT_TTL',
        message: 'has an invalid value "forever": expected a duration',
        file: 'services/auth/.env',
      },
    ],
    code: 78,
    stderr: '',
    cached: false,
  };
  const passed: DryRun = { ...refused, outcome: 'passed', problems: undefined, printed: { variables: [] } };
  const now = Date.now();

  function snapshot(
    state: ServiceSnapshot['state'],
    run: DryRun,
    options: { exitCode?: number; startedAt?: number; envChanged?: number } = {},
  ): Snapshot {
    const service = {
      entry: auth,
      process: { pid: 42, startedAt: options.startedAt ?? now - 60_000, exitCode: options.exitCode },
      state,
      since: now - 60_000,
      lines: [],
      errors: [],
      events: [],
      health: undefined,
      ready: undefined,
      memory: [],
      dependencies: [],
      portHolder: undefined,
      host: '127.0.0.1',
    } as unknown as ServiceSnapshot;
    return {
      ecosystem: { root, file: '', namespace: 'x', services: [auth], tools: [] },
      now,
      pm2Home: '',
      daemonRunning: true,
      services: [service],
      selected: new Set(['auth-service']),
      external: new Map(),
      config: {
        runs: [run],
        configs: new Map(),
        envFiles: new Map([
          ['auth-service', [{ file: 'services/auth/.env', mtimeMs: options.envChanged ?? now - 120_000 }]],
        ]),
        elapsedMs: 0,
      },
    };
  }

  it.each([
    ['online, refused on disk: an error while it runs', 'online', refused, {}, ['config-error:error']],
    [
      'in a crash loop (crashed, restarts after a back-off), refused: an error',
      'crash-loop',
      refused,
      {},
      ['config-error:error'],
    ],
    [
      'stopped on exit 78 already: config-error.ts reports it from the log',
      'stopped',
      refused,
      { exitCode: 78 },
      [],
    ],
    ['online, passes, .env older than the process: nothing', 'online', passed, {}, []],
    [
      'online, passes, .env changed after the start: restart needed',
      'online',
      passed,
      { envChanged: now - 1000 },
      ['config-stale:warning'],
    ],
    [
      'online, refused and changed after the start: one error, no extra warning',
      'online',
      refused,
      { envChanged: now - 1000 },
      ['config-error:error'],
    ],
    [
      'stopped, .env changed: nothing runs on old configuration',
      'stopped',
      passed,
      { envChanged: now - 1000 },
      [],
    ],
  ] as const)('%s', (_what, state, run, options, expected) => {
    const found = detectConfigOnDisk(snapshot(state, run, options));
    expect(found.map((f) => `${f.kind}:${f.severity}`)).toEqual(expected);
  });

  it('names the variable, the file and line, and that the running process has the old value', () => {
    const [finding] = detectConfigOnDisk(snapshot('online', refused, { envChanged: now - 1000 }));
    expect(finding?.location).toEqual({ file: 'services/auth/.env', line: 4, column: 1 });
    expect(finding?.summary).toContain(
      'JWT_TTL has an invalid value "forever": expected a duration (services/auth/.env:4)',
    );
    expect(finding?.summary).toContain('the running process (pid 42');
    expect(finding?.summary).toContain('still has the old value from before services/auth/.env changed');
  });

  it("stopped on exit 78 with a log that kept none of the kit's lines: the dry run names the variable", () => {
    // PM2 closes a process's log files on its exit, which may come before its last stderr data: a
    // whole `pnpm test` left billing's error log empty, and diagnose said only "exit 78".
    const [finding] = detectConfigErrors(snapshot('stopped', refused, { exitCode: 78 }));
    expect(finding).toMatchObject({ kind: 'config-error', severity: 'error', service: 'auth-service' });
    expect(finding?.summary).toContain(
      'auth-service stopped on a configuration error: JWT_TTL has an invalid value "forever": expected a duration',
    );
    expect(finding?.location).toEqual({ file: 'services/auth/.env', line: 4, column: 1 });
    expect(finding?.next).toMatch(
      /^set JWT_TTL in services\/auth\/\.env.*, then pnpm devctl restart auth-service --wait$/,
    );
    expect(finding?.evidence.map((e) => e.text).join('\n')).toContain(
      'config error in auth-service: JWT_TTL has an invalid value "forever"',
    );
    // The configuration on disk passes now: the log's silence is all there is, and it says so.
    const [since] = detectConfigErrors(snapshot('stopped', passed, { exitCode: 78 }));
    expect(since?.summary).toBe(
      'auth-service exited 78 (configuration error); its log tail does not name the variable, and the configuration on disk passes its dry run now (changed since it stopped?)',
    );
  });

  it('masks a refused secret even when the kit did not', () => {
    expect(
      maskProblem({ name: 'JWT_SECRET', message: 'has an invalid value "hunter2": too short', file: '' }),
    ).toBe('JWT_SECRET has an invalid value "****": too short');
  });

  it('the consistency detector is quiet without the configuration snapshot', () => {
    const bare = { ...snapshot('online', passed), config: undefined };
    expect(detectConfigConsistency(bare)).toEqual([]);
    expect(detectConfigOnDisk(bare)).toEqual([]);
  });
});

describe('devctl env and the MCP tool show only a short hash beside a masked secret', () => {
  it.each([
    ['sha256:1a2b3c4d', 'sha256:1a2b3c4d'],
    ['sha256:1a2b3c4d5e', null],
    ['hunter2-the-secret', null],
    ['sha256:XYZ12345', null],
    [null, null],
    [42, null],
  ])('%j -> %j', (given, shown) => {
    expect(shortHashOf(given)).toBe(shown);
  });
});
