// Relays and history, as pure functions over the recording of a user trial on the real stack
// (fixtures/diagnose/recorded/relay-wrong-port.json: the logs and PM2's log as written).
// services/form/.env had DATA_SERVICE_URL=http://127.0.0.1:3040 (data-service listens on 3004):
// form-service logged `data-service unreachable at 127.0.0.1:3040 (ECONNREFUSED)` and answered 502,
// api-gateway logged `form-service failed: 502 data-service unreachable at 127.0.0.1:3040 ...`.
// The address in a relayed message is the upstream's (or deeper), never the relay's: the gateway
// must not be told to change a setting it does not have wrong. After the fix and
// `devctl restart form-service --wait`, the gateway's earlier relays are history.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import type { ConfigSnapshot, ResolvedVariable } from '../src/diagnose/config-snapshot';
import { lastRequestedStart, readPm2Events } from '../src/diagnose/pm2-log';
import { relayChain } from '../src/diagnose/requests';
import type { Finding } from '../src/diagnose/types';
import { diagnoseSnapshot, loadRecording, type Recording, snapshotOf } from './diagnose-recorded';

type TrialRecording = Recording & { pm2: string[] };

const trial = loadRecording('relay-wrong-port') as TrialRecording;
const at = (clock: string) => Date.parse(`2026-12-06T${clock}Z`);
/** Between the last relayed 502 (08:44:22) and the restart with the fixed .env (08:44:32). */
const FAULT_LIVE = at('08:44:25.000');
/** The diagnose the user ran after `restart form-service --wait` (the recording's end). */
const AFTER_FIX = trial.now;

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** Lines carry PM2's `YYYY-MM-DDTHH:MM:SS: ` prefix (second precision). */
const upTo = (lines: string[] | undefined, now: number) =>
  (lines ?? []).filter((line) => Date.parse(`${line.slice(0, 19)}Z`) <= now);

interface Options {
  now: number;
  /** Where form-service's DATA_SERVICE_URL points (its .env, line 10). */
  formDataPort: number;
  /** The configuration as the next start reads it (`--print-config`); absent when not checked. */
  config?: boolean;
  /** Edits of the recording before it becomes a snapshot. */
  edit?: (recording: TrialRecording) => void;
  /** False: form-service's /ready does not call data-service (nothing but the logs tells). */
  readyChecksData?: boolean;
}

function variable(name: string, value: string, file: string, line: number | null): ResolvedVariable {
  return { name, value, source: 'service .env', place: { file, line } };
}

/**
 * The snapshot collect() makes of the trial stack at `now`: the log tails written by then, PM2's
 * events from its own log (parsed by the real reader) and the last start the user asked for.
 */
function trialSnapshot(options: Options): Snapshot {
  const recording = structuredClone(trial);
  options.edit?.(recording);
  recording.now = options.now;
  for (const service of Object.values(recording.services)) {
    service.out = upTo(service.out, options.now);
    service.err = upTo(service.err, options.now);
  }
  const snapshot = snapshotOf(recording);
  const home = mkdtempSync(join(tmpdir(), 'devctl-relay-pm2-'));
  homes.push(home);
  writeFileSync(join(home, 'pm2.log'), `${upTo(recording.pm2, options.now).join('\n')}\n`);
  const events = readPm2Events(home);
  for (const service of snapshot.services) {
    const name = service.entry.name;
    service.events = [...events].find(([key]) => key.startsWith(`${name}:`))?.[1] ?? [];
    service.since = lastRequestedStart(service.events);
  }
  const form = snapshot.services.find((s) => s.entry.name === 'form-service');
  if (form) {
    form.dependencies = [
      {
        name: 'data-service',
        kind: 'service',
        host: '127.0.0.1',
        port: options.formDataPort,
        variable: 'DATA_SERVICE_URL',
        file: 'services/form/.env',
      },
    ];
    if (options.formDataPort !== 3004 && options.readyChecksData !== false) {
      // form-service's readiness check calls data-service where its .env says.
      form.ready = {
        path: '/ready',
        ok: false,
        status: 503,
        body: {
          status: 'not ready',
          service: 'form-service',
          checks: {
            'data-service': {
              ok: false,
              latencyMs: 2,
              error: `data-service unreachable at 127.0.0.1:${options.formDataPort} (ECONNREFUSED)`,
            },
          },
        },
        error: 'status 503',
        latencyMs: 3,
      };
    }
  }
  if (options.config) {
    const configs: ConfigSnapshot['configs'] = new Map([
      [
        'data-service',
        {
          service: 'data-service',
          variables: new Map([['PORT', variable('PORT', '3004', 'services/data/src/config.ts', null)]]),
        },
      ],
      [
        'form-service',
        {
          service: 'form-service',
          variables: new Map([
            ['PORT', variable('PORT', '3001', 'services/form/.env', 2)],
            [
              'DATA_SERVICE_URL',
              variable(
                'DATA_SERVICE_URL',
                `http://127.0.0.1:${options.formDataPort}`,
                'services/form/.env',
                10,
              ),
            ],
          ]),
        },
      ],
      [
        'api-gateway',
        {
          service: 'api-gateway',
          variables: new Map([
            ['PORT', variable('PORT', '3000', 'services/api-gateway/src/config.ts', null)],
            [
              'FORM_SERVICE_URL',
              variable(
                'FORM_SERVICE_URL',
                'http://127.0.0.1:3001',
                'services/api-gateway/src/config.ts',
                null,
              ),
            ],
            [
              'DATA_SERVICE_URL',
              variable(
                'DATA_SERVICE_URL',
                'http://127.0.0.1:3004',
                'services/api-gateway/src/config.ts',
                null,
              ),
            ],
          ]),
        },
      ],
    ]);
    snapshot.config = { runs: [], configs, envFiles: new Map(), elapsedMs: 1 };
  }
  return snapshot;
}

/** The recorded error lines of a service without those of some requests (it logged nothing for them). */
function dropErrorsOf(recording: TrialRecording, service: string, requestIds: string[]) {
  const recorded = recording.services[service];
  if (!recorded) throw new Error(`no ${service} in the recording`);
  recorded.err = recorded.err?.filter((line) => !requestIds.some((id) => line.includes(id)));
}

const gatewayErrors = () => trial.services['api-gateway']?.err ?? [];
const requestIdOf = (line: string) => /"reqId":"([^"]+)"/.exec(line)?.[1] as string;

/** The recording with every kit message about form-service's call to data-service rewritten. */
function relayKind(own: string, status: number) {
  return (recording: TrialRecording) => {
    const rewrite = (line: string) =>
      line
        .split('data-service unreachable at 127.0.0.1:3040 (ECONNREFUSED)')
        .join(own)
        .split('form-service failed: 502 ')
        .join(`form-service failed: ${status} `);
    for (const service of Object.values(recording.services)) service.err = service.err?.map(rewrite);
  };
}

/** A service in front of the gateway that relays its 502 too: the failure two relays up. */
function behindAnotherRelay(recording: TrialRecording) {
  const gateway = recording.services['api-gateway'];
  recording.services['web-bff'] = {
    folder: 'services/web-bff',
    dependsOn: ['api-gateway'],
    state: 'online',
    port: 3009,
    out: [],
    err: (gateway?.err ?? []).map((line) =>
      line
        .split('"service":"api-gateway"')
        .join('"service":"web-bff"')
        .split('form-service failed: 502 ')
        .join('api-gateway failed: 502 form-service failed: 502 ')
        .replace(
          /"time":"([^"]+)\.(\d{3})Z"/,
          (_m, t: string, ms: string) =>
            `"time":"${t}.${String(Number(ms) + 5)
              .padStart(3, '0')
              .slice(-3)}Z"`,
        ),
    ),
    health: { status: 200, body: { status: 'ok', service: 'web-bff' } },
    ready: { status: 200, body: { status: 'ready', service: 'web-bff', checks: {} } },
  };
}

/** No finding names a relay, and none asks anyone to set an address it did not use. */
function expectNoRelayBlamed(findings: Finding[]) {
  expect(findings.filter((f) => f.service === 'api-gateway')).toEqual([]);
  for (const finding of findings) {
    expect(finding.next).not.toMatch(/services\/api-gateway/);
    expect(finding.next).not.toMatch(/restart api-gateway/);
  }
}

interface LiveRow {
  fault: string;
  options: Options;
  first: Partial<Finding>;
  next: RegExp;
}

const liveRows: LiveRow[] = [
  {
    fault: 'configuration checked: the wrong URL in services/form/.env',
    options: { now: FAULT_LIVE, formDataPort: 3040, config: true },
    first: {
      kind: 'config-mismatch',
      service: 'form-service',
      severity: 'error',
      location: { file: 'services/form/.env', line: 10, column: 1 },
    },
    next: /^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env, then pnpm devctl restart form-service --wait$/,
  },
  {
    fault: 'configuration not checked (no dry run): from the logs alone',
    options: { now: FAULT_LIVE, formDataPort: 3040 },
    first: { kind: 'dependency-unreachable', service: 'form-service', severity: 'error' },
    next: /^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env, then pnpm devctl restart form-service --wait$/,
  },
  {
    fault: 'form-service logged nothing of its own for some requests the gateway relayed',
    options: {
      now: FAULT_LIVE,
      formDataPort: 3040,
      edit: (r) => dropErrorsOf(r, 'form-service', gatewayErrors().slice(0, 3).map(requestIdOf)),
    },
    first: { kind: 'dependency-unreachable', service: 'form-service', severity: 'error' },
    next: /^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env/,
  },
  {
    fault: 'form-service logged nothing at all: only the relays say whose address it was',
    options: {
      now: FAULT_LIVE,
      formDataPort: 3040,
      readyChecksData: false,
      edit: (r) => dropErrorsOf(r, 'form-service', gatewayErrors().map(requestIdOf)),
    },
    first: {
      kind: 'dependency-unreachable',
      service: 'form-service',
      severity: 'error',
      summary: expect.stringMatching(
        /^form-service calls data-service at 127\.0\.0\.1:3040 \(ECONNREFUSED\), but data-service listens on port 3004/,
      ) as string,
    },
    next: /^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env/,
  },
  {
    fault: 'the relayed failure is a timeout (504)',
    options: {
      now: FAULT_LIVE,
      formDataPort: 3040,
      edit: relayKind('data-service timed out after 5000 ms at 127.0.0.1:3040', 504),
    },
    first: {
      kind: 'dependency-unreachable',
      service: 'form-service',
      // ETIMEDOUT from the requests; form-service's /ready still meets a refused connection.
      summary: expect.stringMatching(
        /at 127\.0\.0\.1:3040 \(ETIMEDOUT\b.*\), but data-service listens on port 3004/,
      ) as string,
    },
    next: /^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env/,
  },
  {
    fault: 'the relayed failure is an answer broken off',
    options: {
      now: FAULT_LIVE,
      formDataPort: 3040,
      edit: relayKind('data-service broke off its answer at 127.0.0.1:3040 (ECONNRESET)', 502),
    },
    first: { kind: 'dependency-unreachable', service: 'form-service' },
    next: /^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env/,
  },
];

describe.each(liveRows)('while the fault is live, $fault', (row) => {
  const findings = diagnoseSnapshot(trialSnapshot(row.options));
  const first = findings[0] as Finding;

  it('the first finding is form-service, with the fix in its own .env', () => {
    expect(first).toMatchObject(row.first);
    expect(first.next).toMatch(row.next);
  });

  it('no finding names api-gateway, nor asks it to change an address it did not use', () => {
    expectNoRelayBlamed(findings);
  });

  it("the gateway's relays fold into form-service's finding", () => {
    expect(first.affects).toEqual(['api-gateway']);
    expect(first.summary).toMatch(/; api-gateway fails because of it$/);
    expect(
      first.evidence.some((e) => e.service === 'api-gateway' && /form-service failed: 50\d /.test(e.text)),
    ).toBe(true);
  });
});

describe('two relays up (web-bff -> api-gateway -> form-service)', () => {
  for (const config of [true, false]) {
    it(`${config ? 'with' : 'without'} the configuration checked: form-service first, both relays fold into it`, () => {
      const findings = diagnoseSnapshot(
        trialSnapshot({ now: FAULT_LIVE, formDataPort: 3040, config, edit: behindAnotherRelay }),
      );
      const first = findings[0] as Finding;
      expect(first).toMatchObject({
        service: 'form-service',
        kind: config ? 'config-mismatch' : 'dependency-unreachable',
        affects: ['api-gateway', 'web-bff'],
      });
      expect(first.next).toMatch(/^set DATA_SERVICE_URL=http:\/\/127\.0\.0\.1:3004 in services\/form\/\.env/);
      expectNoRelayBlamed(findings);
      expect(findings.filter((f) => f.service === 'web-bff')).toEqual([]);
    });
  }
});

describe('after form-service restarted on the fixed .env and is healthy', () => {
  it("the gateway's relays from before that restart are history: no finding at all", () => {
    for (const config of [true, false]) {
      const snapshot = trialSnapshot({ now: AFTER_FIX, formDataPort: 3004, config });
      // The restart the user asked for, read from PM2's log, after every relayed 502.
      const form = snapshot.services.find((s) => s.entry.name === 'form-service');
      expect(form?.since).toBe(at('08:44:32.000'));
      const gateway = snapshot.services.find((s) => s.entry.name === 'api-gateway');
      expect(gateway?.errors.filter((e) => e.level >= 50)).toHaveLength(5);
      expect(diagnoseSnapshot(snapshot)).toEqual([]);
    }
  });

  it('a relay logged after that restart stays a finding, on form-service, not on the gateway', () => {
    // The same failure once more after the restart (as if the .env had not been fixed): both lines
    // of one request, 3 s after form-service's new start.
    const later = (line: string) =>
      line
        .split('2026-12-06T08:44:22')
        .join('2026-12-06T08:44:35')
        .split(requestIdOf(gatewayErrors()[4] as string))
        .join('7d3c1a52-0000-4000-8000-000000000001');
    const snapshot = trialSnapshot({
      now: AFTER_FIX,
      formDataPort: 3040,
      edit: (r) => {
        for (const name of ['api-gateway', 'form-service']) {
          const recorded = r.services[name];
          const last = recorded?.err?.[recorded.err.length - 1];
          if (recorded?.err && last) recorded.err.push(later(last));
        }
      },
    });
    const findings = diagnoseSnapshot(snapshot);
    const first = findings[0] as Finding;
    expect(first).toMatchObject({
      service: 'form-service',
      kind: 'dependency-unreachable',
      affects: ['api-gateway'],
    });
    expect(first.next).toMatch(/in services\/form\/\.env/);
    // Only the relay after the restart is evidence: the earlier ones are history.
    const relayed = first.evidence.filter((e) => e.service === 'api-gateway');
    expect(relayed.map((e) => e.time)).toEqual(['2026-12-06T08:44:35.772Z']);
    expectNoRelayBlamed(findings);
  });
});

describe('failures while the service the user restarted was booting', () => {
  // form-service's restart asked for at 08:44:32 answered from 08:44:33.262 (its "listening" line).
  // A caller that called it in between got ECONNREFUSED: that was the restart, not a fault (trial:
  // worker-service polls data-service every 500 ms and logged one during every restart of it).
  const refusedAt = (clock: string) => (recording: TrialRecording) => {
    const gateway = recording.services['api-gateway'];
    const last = gateway?.err?.[gateway.err.length - 1] as string;
    gateway?.err?.push(
      last
        .split('08:44:22.772Z')
        .join(`${clock}Z`)
        .split('2026-12-06T08:44:22')
        .join(`2026-12-06T${clock.slice(0, 8)}`)
        .split('form-service failed: 502 data-service unreachable at 127.0.0.1:3040 (ECONNREFUSED)')
        .join('form-service unreachable at 127.0.0.1:3001 (ECONNREFUSED)')
        .split('"code":"HTTP_502"')
        .join('"code":"ECONNREFUSED"'),
    );
  };

  it('are history once it answers: no finding', () => {
    const snapshot = trialSnapshot({ now: AFTER_FIX, formDataPort: 3004, edit: refusedAt('08:44:33.100') });
    const gateway = snapshot.services.find((s) => s.entry.name === 'api-gateway');
    expect(gateway?.errors.some((e) => e.message.includes('form-service unreachable'))).toBe(true);
    expect(diagnoseSnapshot(snapshot)).toEqual([]);
  });

  it('after it answered, the same failure is a finding (the control)', () => {
    const findings = diagnoseSnapshot(
      trialSnapshot({ now: AFTER_FIX, formDataPort: 3004, edit: refusedAt('08:44:34.900') }),
    );
    expect(findings).toMatchObject([{ kind: 'dependency-unreachable', service: 'api-gateway' }]);
    expect(findings[0]?.summary).toMatch(/failed to reach form-service 1 time\(s\), last at 08:44:34/);
  });
});

describe('relayChain: who used which address in a relayed message', () => {
  it.each([
    {
      text: 'form-service failed: 502 data-service unreachable at 127.0.0.1:3040 (ECONNREFUSED)',
      chain: [
        { upstream: 'form-service', how: 'failed', status: 502 },
        { upstream: 'data-service', how: 'unreachable', host: '127.0.0.1', port: 3040, code: 'ECONNREFUSED' },
      ],
    },
    {
      text: 'web-bff failed: 504 api-gateway failed: 504 form-service timed out after 5000 ms at [::1]:3001',
      chain: [
        { upstream: 'web-bff', how: 'failed', status: 504 },
        { upstream: 'api-gateway', how: 'failed', status: 504 },
        { upstream: 'form-service', how: 'timeout', timeoutMs: 5000, host: '::1', port: 3001 },
      ],
    },
    {
      text: 'could not load the form: form-service broke off its answer at 127.0.0.1:3001 (ECONNRESET)',
      chain: [
        { upstream: 'form-service', how: 'broke-off', host: '127.0.0.1', port: 3001, code: 'ECONNRESET' },
      ],
    },
    {
      text: 'leaf failed: 500 internal server error',
      chain: [{ upstream: 'leaf', how: 'failed', status: 500 }],
    },
    // A 4xx is passed on as the upstream's own answer by the kit, not relayed as a failure.
    { text: 'form-service failed: 404 not found', chain: [] },
    { text: 'connect ECONNREFUSED 127.0.0.1:5432', chain: [] },
  ])('$text', ({ text, chain }) => {
    expect(relayChain(text)).toEqual(chain);
  });
});
