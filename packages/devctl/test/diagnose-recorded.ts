// Snapshots for the table tests of diagnose, rebuilt from recordings of real runs
// (test/fixtures/diagnose/recorded/*.json): each service's log lines exactly as the real services
// wrote them, its PM2 state and its /health and /ready answers. Absolute paths in the recordings
// are `<ROOT>`: the repository root for the real services, the fixture folder for fixture services,
// so the stack frames name files that exist here and the location rules read the real sources.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceSnapshot, ServiceState, Snapshot } from '../src/diagnose/collect';
import { detectors } from '../src/diagnose/detectors/index';
import { findErrors, type LogLine, mergeTails, parseLogLines } from '../src/diagnose/log-tail';
import { attributeRootCauses } from '../src/diagnose/root-cause';
import type { SnapshotFile } from '../src/diagnose/snapshot-file';
import type { Finding } from '../src/diagnose/types';
import type { Ecosystem, ServiceEntry } from '../src/ecosystem/index';
import type { HttpProbe } from '../src/probe';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
export const fixtureRoot = fileURLToPath(new URL('./fixtures/diagnose', import.meta.url)).replace(/\/$/, '');
const recordedDir = join(fixtureRoot, 'recorded');

type RecordedProbe = { status: number; body: unknown } | { error: string };

export interface RecordedService {
  folder: string;
  dependsOn: string[];
  state: ServiceState;
  port?: number;
  /** Lines of both streams in arrival order (pino lines of level 50+ were written to stderr). */
  lines?: string[];
  out?: string[];
  err?: string[];
  health?: RecordedProbe;
  ready?: RecordedProbe;
  /** The last start the user asked for (ms); none means every line counts. */
  since?: number;
}

export interface Recording {
  name: string;
  how: string;
  now: number;
  /** Where `<ROOT>` points: the repository (real services) or the diagnose fixture folder. */
  root?: 'repo' | 'fixture';
  services: Record<string, RecordedService>;
}

export const loadRecording = (name: string): Recording =>
  JSON.parse(readFileSync(join(recordedDir, `${name}.json`), 'utf8')) as Recording;

function probe(path: string, recorded: RecordedProbe | undefined): HttpProbe | undefined {
  if (!recorded) return undefined;
  if ('error' in recorded)
    return { path, ok: false, status: null, body: undefined, error: recorded.error, latencyMs: 0 };
  const ok = recorded.status >= 200 && recorded.status < 300;
  return {
    path,
    ok,
    status: recorded.status,
    body: recorded.body,
    error: ok ? null : `status ${recorded.status}`,
    latencyMs: 1,
  };
}

const levelOf = (line: string) => Number(/"level":(\d+)/.exec(line)?.[1] ?? 50);

/** The snapshot collect() would have made of the recorded stack at the recording's time. */
export function snapshotOf(recording: Recording): Snapshot {
  const root = recording.root === 'fixture' ? fixtureRoot : repoRoot;
  const fill = (text: string) => text.split('<ROOT>').join(root);
  const entries: ServiceEntry[] = Object.entries(recording.services).map(([name, service], index) => ({
    name,
    namespace: 'recorded',
    cwd: join(root, service.folder),
    folder: service.folder,
    script: 'dist/index.js',
    port: service.port ?? 4700 + index,
    outFile: join(root, service.folder, 'logs', 'out.log'),
    errorFile: join(root, service.folder, 'logs', 'error.log'),
    dependsOn: service.dependsOn,
    env: {},
    kind: 'service',
    app: {},
  }));
  const ecosystem: Ecosystem = {
    root,
    file: join(root, 'ecosystem.config.js'),
    namespace: 'recorded',
    services: entries,
    tools: [],
  };
  const services: ServiceSnapshot[] = entries.map((entry) => {
    const recorded = recording.services[entry.name] as RecordedService;
    const out = (recorded.out ?? (recorded.lines ?? []).filter((line) => levelOf(line) < 50)).map(fill);
    const err = (recorded.err ?? (recorded.lines ?? []).filter((line) => levelOf(line) >= 50)).map(fill);
    const lines = mergeTails(
      parseLogLines(out, 'out', recording.now),
      parseLogLines(err, 'err', recording.now),
    );
    return {
      entry,
      process: undefined,
      state: recorded.state,
      since: recorded.since,
      lines,
      errors: findErrors(lines),
      events: [],
      health: probe('/health', recorded.health),
      ready: probe('/ready', recorded.ready),
      memory: [],
      dependencies: entry.dependsOn.map((dep) => ({
        name: dep,
        kind: 'service' as const,
        host: '127.0.0.1',
        port: entries.find((e) => e.name === dep)?.port ?? 0,
        variable: undefined,
        file: undefined,
      })),
      portHolder: undefined,
      host: '127.0.0.1',
    };
  });
  return {
    ecosystem,
    now: recording.now,
    pm2Home: '/nonexistent/pm2-home',
    daemonRunning: true,
    services,
    selected: new Set(entries.map((e) => e.name)),
    external: new Map(),
  };
}

/** What diagnose answers for the recorded stack: every detector, then the root-cause pass. */
export function diagnoseRecording(recording: Recording): Finding[] {
  return diagnoseSnapshot(snapshotOf(recording));
}

/**
 * A snapshot written by `DEVCTL_RECORD_SNAPSHOT` (diagnose-faults.test.ts with RECORD_DIAGNOSE=1):
 * the log tails as diagnose read them, PM2's state and events, probes, port holders, memory. The
 * errors are found again from the lines, so the log parser is part of what the table tests run.
 */
export function loadSnapshotFile(name: string, root = fixtureRoot): Snapshot {
  const text = readFileSync(join(recordedDir, `${name}.snapshot.json`), 'utf8')
    .split('<ROOT>')
    .join(root);
  const file = JSON.parse(text) as SnapshotFile;
  const entries: ServiceEntry[] = file.services.map((service) => ({ ...service.entry, env: {}, app: {} }));
  return {
    ecosystem: {
      root,
      file: join(root, 'ecosystem.config.js'),
      namespace: 'recorded',
      services: entries,
      tools: [],
    },
    now: file.now,
    pm2Home: '/nonexistent/pm2-home',
    daemonRunning: file.daemonRunning,
    services: file.services.map((service, index) => ({
      ...service,
      entry: entries[index] as ServiceEntry,
      errors: findErrors(service.lines),
    })),
    selected: new Set(file.selected),
    external: new Map(file.external),
  };
}

/** Findings for a snapshot, as diagnose makes them. */
export function diagnoseSnapshot(snapshot: Snapshot): Finding[] {
  return attributeRootCauses(
    detectors.flatMap((detect) => detect(snapshot)),
    snapshot.selected,
  );
}

/**
 * An online, healthy service of a hand-made snapshot with the given log lines (its errors found
 * from them as collect does): the table tests that build a snapshot from real lines share it.
 */
export function onlineService(options: {
  name: string;
  folder: string;
  dependsOn?: string[];
  lines: LogLine[];
  since: number | undefined;
  restarts?: number;
}): ServiceSnapshot {
  return {
    entry: {
      name: options.name,
      folder: options.folder,
      dependsOn: options.dependsOn ?? [],
      kind: 'service',
    },
    process: { pid: 1000, name: options.name, restarts: options.restarts ?? 0 },
    state: 'online',
    since: options.since,
    lines: options.lines,
    errors: findErrors(options.lines),
    events: [],
    memory: [],
    dependencies: [],
    health: { path: '/health', ok: true, status: 200, latencyMs: 2 },
    ready: { path: '/ready', ok: true, status: 200, latencyMs: 2 },
    portHolder: undefined,
    host: '127.0.0.1',
  } as unknown as ServiceSnapshot;
}
