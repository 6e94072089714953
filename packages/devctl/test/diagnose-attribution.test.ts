// Attribution and location as pure functions over recorded snapshots: the log lines the real
// services wrote (fixtures/diagnose/recorded, made by record-real-stack.ts and by
// diagnose-chain.test.ts with RECORD_DIAGNOSE=1), their PM2 state and probes. One row per fault
// class; no PM2, no process, milliseconds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hopsOf } from '../src/diagnose/requests';
import type { Finding } from '../src/diagnose/types';
import {
  diagnoseRecording,
  diagnoseSnapshot,
  fixtureRoot,
  loadRecording,
  loadSnapshotFile,
  type Recording,
  repoRoot,
  snapshotOf,
} from './diagnose-recorded';

const lineOf = (root: string, file: string, text: string) =>
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text)) + 1;

/** The line of `file` in the first recorded stack frame that names it (where the recording says it failed). */
function recordedFrameLine(recording: Recording, file: string): number {
  const text = JSON.stringify(recording);
  const match = new RegExp(`${file.replace(/[.]/g, '\\.')}:(\\d+):\\d+`).exec(text);
  if (!match) throw new Error(`no frame of ${file} in ${recording.name}`);
  return Number(match[1]);
}

/** The same recording as if no service passed request ids on: the fallback by time and name. */
function withoutRequestIds(recording: Recording): Recording {
  const strip = (lines: string[] | undefined) => lines?.map((line) => line.replace(/"reqId":"[^"]*",/g, ''));
  return {
    ...recording,
    services: Object.fromEntries(
      Object.entries(recording.services).map(([name, service]) => [
        name,
        { ...service, lines: strip(service.lines), out: strip(service.out), err: strip(service.err) },
      ]),
    ),
  };
}

/** The same recording as if only the callers passed no id on (the leaf logs its own). */
function callersWithoutIds(recording: Recording, callers: string[]): Recording {
  const strip = (lines: string[] | undefined) => lines?.map((line) => line.replace(/"reqId":"[^"]*",/g, ''));
  return {
    ...recording,
    services: Object.fromEntries(
      Object.entries(recording.services).map(([name, service]) => [
        name,
        callers.includes(name)
          ? { ...service, lines: strip(service.lines), out: strip(service.out), err: strip(service.err) }
          : service,
      ]),
    ),
  };
}

/** The recording without what one service logged (a service that logs nothing about the request). */
function silenced(recording: Recording, service: string): Recording {
  const services = { ...recording.services };
  const quiet = services[service];
  if (quiet) services[service] = { ...quiet, lines: [], out: [], err: [] };
  return { ...recording, services };
}

interface Row {
  fault: string;
  recording: () => Recording;
  first: Omit<Partial<Finding>, 'location'> & {
    location: Finding['location'] | ((r: Recording) => Finding['location']);
  };
  /** The callers that relayed the failure: no finding of their own. */
  callers: string[];
  next: RegExp;
  requestId?: boolean;
}

const chainLine = (file: string, text: string) => lineOf(fixtureRoot, file, text);

const rows: Row[] = [
  {
    fault: '500 at depth 1 (a TypeError behind one relay)',
    recording: () => loadRecording('chain-500-depth-1'),
    first: {
      kind: 'request-error',
      service: 'leaf',
      location: {
        file: 'services/chain/src/pricing.ts',
        line: chainLine('services/chain/src/pricing.ts', 'lookup(rates.byRegion'),
        column: expect.any(Number) as number,
      },
    },
    callers: ['mid'],
    next: /^fix services\/chain\/src\/pricing\.ts:\d+:\d+ \(TypeError: Cannot read properties of undefined/,
    requestId: true,
  },
  {
    fault: '500 at depth 2 (two relays)',
    recording: () => loadRecording('chain-500-depth-2'),
    first: {
      kind: 'request-error',
      service: 'leaf',
      location: {
        file: 'services/chain/src/pricing.ts',
        line: chainLine('services/chain/src/pricing.ts', 'lookup(rates.byRegion'),
        column: expect.any(Number) as number,
      },
    },
    callers: ['edge', 'mid'],
    next: /^fix services\/chain\/src\/pricing\.ts:/,
    requestId: true,
  },
  {
    fault: '500 at depth 2 without request ids (fallback: the upstream named, close in time)',
    recording: () => withoutRequestIds(loadRecording('chain-500-depth-2')),
    first: {
      kind: 'request-error',
      service: 'leaf',
      location: {
        file: 'services/chain/src/pricing.ts',
        line: chainLine('services/chain/src/pricing.ts', 'lookup(rates.byRegion'),
        column: expect.any(Number) as number,
      },
    },
    callers: ['edge', 'mid'],
    next: /^fix services\/chain\/src\/pricing\.ts:/,
  },
  {
    fault: '500 at depth 2, the callers log no request id (fallback: close in time)',
    recording: () => callersWithoutIds(loadRecording('chain-500-depth-2'), ['edge', 'mid']),
    first: {
      kind: 'request-error',
      service: 'leaf',
      location: {
        file: 'services/chain/src/pricing.ts',
        line: chainLine('services/chain/src/pricing.ts', 'lookup(rates.byRegion'),
        column: expect.any(Number) as number,
      },
    },
    callers: ['edge', 'mid'],
    next: /^fix services\/chain\/src\/pricing\.ts:/,
  },
  {
    fault: 'SQL error in a store function, two hops down (real gateway -> form-service -> data-service)',
    recording: () => loadRecording('sql-error-depth-2'),
    first: {
      kind: 'request-error',
      service: 'data-service',
      location: (r) => ({
        file: 'services/data/src/store/forms.ts',
        line: recordedFrameLine(r, 'services/data/src/store/forms.ts'),
        column: expect.any(Number) as number,
      }),
    },
    callers: ['api-gateway', 'form-service'],
    next: /^fix services\/data\/src\/store\/forms\.ts:\d+:\d+ \(LibsqlError: SQLITE_ERROR: no such table: submissions/,
    requestId: true,
  },
  {
    fault: 'dependency stopped (real data-service stopped under form-service and the gateway)',
    recording: () => loadRecording('dependency-stopped'),
    first: { kind: 'stopped', service: 'data-service', location: null },
    callers: ['api-gateway', 'form-service'],
    next: /^pnpm devctl start data-service --wait$/,
  },
  {
    fault: 'slow handler (the leaf takes longer than its caller waits)',
    recording: () => loadRecording('chain-slow-handler'),
    first: {
      kind: 'slow-request',
      service: 'leaf',
      severity: 'error',
      location: {
        file: 'services/chain/src/routes/quotes.ts',
        line: chainLine('services/chain/src/routes/quotes.ts', 'app.get<'),
        column: expect.any(Number) as number,
      },
    },
    callers: ['edge', 'mid'],
    next: /^find what the handler of GET \/quotes\/:id at services\/chain\/src\/routes\/quotes\.ts:\d+:\d+ waits on \(pnpm devctl trace /,
    requestId: true,
  },
  {
    fault: 'hung request (incoming request, no request completed)',
    recording: () => loadRecording('chain-hung-handler'),
    first: {
      kind: 'slow-request',
      service: 'leaf',
      severity: 'error',
      location: {
        file: 'services/chain/src/routes/quotes.ts',
        line: chainLine('services/chain/src/routes/quotes.ts', 'app.get<'),
        column: expect.any(Number) as number,
      },
    },
    callers: ['mid'],
    next: /^find what the handler of GET \/quotes\/:id/,
    requestId: true,
  },
  {
    fault: 'corrupt database file (data, not code)',
    recording: () => loadRecording('corrupt-db-file'),
    first: { kind: 'data-fault', service: 'data-service', location: null },
    callers: [],
    next: /^no code change: \/\S+\/app\.db is not a SQLite database: restore it from a backup/,
  },
  {
    fault: 'schema newer than the code (data, not code)',
    recording: () => loadRecording('schema-newer'),
    first: { kind: 'data-fault', service: 'data-service', location: null },
    callers: [],
    next: /^no code change: run the data-service that wrote schema version 99/,
  },
  {
    fault: 'failing migration (data, not code)',
    recording: () => loadRecording('migration-fails'),
    first: { kind: 'data-fault', service: 'data-service', location: null },
    callers: [],
    next: /^no code change: the database at \S+ already holds what migration 1 \(users, forms/,
  },
];

describe.each(rows)('$fault', (row) => {
  const recording = row.recording();
  const findings = diagnoseRecording(recording);
  const first = findings[0] as Finding;

  it('the first finding is the service that failed on its own, at the line that holds the fix', () => {
    const location =
      typeof row.first.location === 'function' ? row.first.location(recording) : row.first.location;
    expect(first).toMatchObject({ ...row.first, location });
    expect(first.next).toMatch(row.next);
  });

  it('the callers that relayed it fold into it and have no finding of their own', () => {
    if (row.callers.length > 0) {
      expect(first.affects).toEqual(row.callers);
      expect(first.summary).toMatch(new RegExp(`; ${row.callers.join(', ')} fails? because of it$`));
      for (const caller of row.callers) expect(first.evidence.some((e) => e.service === caller)).toBe(true);
    }
    expect(findings.filter((f) => row.callers.includes(f.service) && f.severity === 'error')).toEqual([]);
  });

  it('no next step asks to edit a relay or a shared pass-through', () => {
    for (const finding of findings) {
      expect(finding.next).not.toMatch(
        /fix (services\/api-gateway\/src\/routes|packages\/service-kit|services\/data\/src\/db\/)/,
      );
      expect(finding.next).not.toMatch(/fix services\/chain\/src\/(routes\/quotes|lookup)\.ts/);
    }
  });

  it.runIf(row.requestId)('carries its request id and the trace command', () => {
    expect(first.requestId).toMatch(/^[\w-]{8,}$/);
    expect(first.evidence.some((e) => e.text.includes(`pnpm devctl trace ${first.requestId}`))).toBe(true);
  });
});

describe('a relay whose upstream logged nothing about it', () => {
  it('stays a warning of the caller that points at the trace, not at the relay line', () => {
    const findings = diagnoseRecording(silenced(loadRecording('chain-500-depth-1'), 'leaf'));
    expect(findings).toHaveLength(1);
    const [only] = findings as [Finding];
    expect(only).toMatchObject({
      service: 'mid',
      kind: 'request-error',
      severity: 'warning',
      location: null,
    });
    expect(only.summary).toMatch(
      /^mid got 1 failed answer\(s\) from leaf, last at [\d:]+ \(HTTP_500\); leaf logged no cause for them/,
    );
    expect(only.next).toMatch(/^pnpm devctl trace [\w-]+ \(where the request failed\)/);
  });
});

describe('recordings name files that exist here', () => {
  it('the real services recordings point into this repository', () => {
    expect(readFileSync(join(repoRoot, 'services/data/src/store/forms.ts'), 'utf8')).toContain(
      'INSERT INTO submissions',
    );
  });
});

// The classes diagnose already knew, from the snapshot of the live fault stack (diagnose-faults):
// each service's root cause is still found, and the new rules add nothing on that stack.
describe('the classes diagnose already knew (recorded from the live fault stack)', () => {
  const findings = diagnoseSnapshot(loadSnapshotFile('known-faults'));
  const of = (service: string) => findings.filter((f) => f.service === service);

  it.each([
    { service: 'billing', kind: 'config-error', text: 'PAYMENT_API_KEY is required but not set' },
    {
      service: 'orders-start',
      kind: 'uncaught-exception',
      text: 'crashed at start',
      file: 'services/orders/src/faults/startup.ts',
    },
    {
      service: 'orders-crash',
      kind: 'uncaught-exception',
      text: 'crashed while running',
      file: 'services/orders/src/routes/crash.ts',
    },
    {
      service: 'orders-reject',
      kind: 'unhandled-rejection',
      text: "reading 'currency'",
      file: 'services/orders/src/faults/prices.ts',
    },
    {
      service: 'orders-boom',
      kind: 'request-error',
      text: 'answered 500 to GET /boom',
      file: 'services/orders/src/routes/boom.ts',
    },
    { service: 'orders-loop', kind: 'crash-loop', text: 'is crash-looping' },
    { service: 'orders-port', kind: 'port-conflict', text: 'not part of this project' },
    { service: 'orders-orphan', kind: 'port-conflict', text: 'an orphan of this project' },
    { service: 'inventory', kind: 'stopped', text: 'orders fails because of it' },
    { service: 'catalog-db', kind: 'dependency-unreachable', text: 'cannot reach the database at' },
    { service: 'catalog-smtp', kind: 'dependency-unreachable', text: 'cannot reach the SMTP server at' },
    {
      service: 'mailer',
      kind: 'module-not-found',
      text: "package 'smtp-fixture-transport' is not installed",
    },
    { service: 'orders-ready', kind: 'unhealthy', text: 'online but not ready' },
    { service: 'orders-hang', kind: 'unhealthy', text: 'GET /health no answer within' },
    { service: 'reports', kind: 'missing', text: 'is not in PM2' },
  ])('$service: $kind', ({ service, kind, text, file }) => {
    const [first] = of(service);
    expect(first).toMatchObject({ kind });
    expect(first?.summary).toContain(text);
    if (file) expect(first?.location?.file).toBe(file);
  });

  it('a stopped dependency takes the failures of its dependents; they have no finding', () => {
    expect(of('inventory')[0]?.affects).toEqual(['orders']);
    expect(of('orders')).toEqual([]);
  });

  it('finds no slow request and no data fault where there is none', () => {
    expect(findings.filter((f) => f.kind === 'slow-request' || f.kind === 'data-fault')).toEqual([]);
  });
});

describe('one request id that comes into a service twice', () => {
  const recording = loadRecording('sql-error-depth-2');
  const snapshot = snapshotOf(recording);
  const data = snapshot.services.find((s) => s.entry.name === 'data-service');
  const failed = diagnoseRecording(recording)[0]?.requestId as string;

  it('gives one hop per incoming request, each closed by its own completion', () => {
    const hops = hopsOf(data as NonNullable<typeof data>).filter((hop) => hop.requestId === failed);
    expect(hops.map((hop) => [hop.method, hop.url?.replace(/[\w-]{20,}/, ':id'), hop.status])).toEqual([
      ['GET', '/forms/:id', 200],
      ['POST', '/forms/:id/submissions', 500],
    ]);
  });

  it('a second hop that never completes is hung, though the first one completed', () => {
    const services = { ...recording.services };
    const original = services['data-service'] as NonNullable<(typeof services)['data-service']>;
    const lines = original.lines ?? [];
    const lastCompletion = lines.findLastIndex(
      (line) => line.includes(failed) && line.includes('request completed'),
    );
    const incoming = lines.findLast(
      (line) => line.includes(failed) && line.includes('incoming request'),
    ) as string;
    const start = new Date(JSON.parse(incoming).time as string).getTime();
    services['data-service'] = {
      ...original,
      // Without its error and its completion: the store call never returned.
      lines: lines.filter(
        (line, index) => index !== lastCompletion && !(line.includes(failed) && line.includes('"level":50')),
      ),
    };
    const findings = diagnoseRecording({ ...recording, services, now: start + 12_000 });
    const hung = findings.find((f) => f.kind === 'slow-request');
    expect(hung).toMatchObject({
      service: 'data-service',
      severity: 'error',
      location: { file: 'services/data/src/routes/forms.ts' },
    });
    expect(hung?.summary).toMatch(/^data-service never answered POST \/forms\/\S+\/submissions: .*12\.0 s/);

    // The same request when its caller exited as it came in (trial 13: a crash of the caller with the
    // request in flight): Fastify logs no completion for an answer nobody waits for. Not a hang.
    for (const [offset, hungStill] of [
      [500, false],
      [-800, false],
      [6000, true],
      [-5000, true],
    ] as const) {
      const snapshot = snapshotOf({ ...recording, services, now: start + 12_000 });
      const caller = snapshot.services.find((s) => s.entry.name === 'form-service');
      if (!caller) throw new Error('no form-service in the recording');
      caller.events = [
        { time: start + offset, kind: 'exited', name: 'form-service', pmId: 1, text: 'exited', crash: true },
      ];
      const slow = diagnoseSnapshot(snapshot).filter((f) => f.kind === 'slow-request');
      expect(slow.length, `caller exit ${offset} ms from the request's arrival`).toBe(hungStill ? 1 : 0);
    }
  });
});

describe('diagnose <caller>', () => {
  it('reports the root cause two hops down, and nothing of the callers', () => {
    const snapshot = snapshotOf(loadRecording('chain-500-depth-2'));
    const findings = diagnoseSnapshot({ ...snapshot, selected: new Set(['edge']) });
    expect(findings.map((f) => [f.service, f.kind, f.affects])).toEqual([
      ['leaf', 'request-error', ['edge', 'mid']],
    ]);
  });
});
