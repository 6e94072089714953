// Gathers everything the detectors look at, once: the ecosystem, PM2's process list and its daemon
// log, the recent tail of each service's logs, /health and /ready, who holds each port, the
// reachability of databases and SMTP servers, and resident memory samples. Reads are bounded (log
// tails from the end, one /proc scan only when a port is held by someone unexpected) so the whole
// collection costs about the same on a 1 GiB log as on an empty one.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { listProcesses, pm2Home } from '../pm2/index';
import type { ProcessInfo } from '../pm2/types';
import { type PortHolder, portHolder } from '../ports/holders';
import { processTree, residentBytes } from '../ports/processes';
import { type ConfigSnapshot, collectConfig } from './config-snapshot';
import { type Dependency, dependenciesOf, isLocalHost } from './dependencies';
import { findErrors, type LoggedError, type LogLine, mergeTails, readTail, TAIL_LINES } from './log-tail';
import { lastRequestedStart, type Pm2Event, readPm2Events } from './pm2-log';
import { type HttpProbe, probeHttpPatiently, probeTcp } from './probe';

export type ServiceState =
  | 'missing'
  | 'online'
  | 'launching'
  | 'stopping'
  | 'stopped'
  | 'errored'
  /** Crashed; PM2 starts it again after its back-off delay. */
  | 'restarting';

export interface MemorySample {
  time: number;
  bytes: number;
}

export interface ServiceSnapshot {
  entry: ServiceEntry;
  process: ProcessInfo | undefined;
  state: ServiceState;
  /**
   * The last start the user asked for (ms): errors before it are history, not findings. PM2's own
   * restarts after a crash do not move it.
   */
  since: number | undefined;
  lines: LogLine[];
  /** Errors in the log tail (all of them; detectors compare with `since`). */
  errors: LoggedError[];
  events: Pm2Event[];
  health: HttpProbe | undefined;
  ready: HttpProbe | undefined;
  memory: MemorySample[];
  dependencies: Dependency[];
  /** A process other than the service itself listening on the service's port. */
  portHolder: PortHolder | undefined;
  host: string;
}

export interface Snapshot {
  ecosystem: Ecosystem;
  now: number;
  pm2Home: string;
  daemonRunning: boolean;
  services: ServiceSnapshot[];
  /** Names diagnose was asked about (every service when none was named). */
  selected: Set<string>;
  /** `host:port` of databases and SMTP servers -> null when reachable, else the reason. */
  external: Map<string, string | null>;
  /** Each kit service's configuration as its next start would read it (config-snapshot.ts). */
  config?: ConfigSnapshot;
}

export interface CollectOptions {
  ecosystem: Ecosystem;
  selected: string[];
  /** For the selected services, errors since this time instead of their last requested start (restart --wait). */
  since?: number;
  /** Resident memory is sampled for this long when a process looks like it grows (default 1500 ms). */
  memoryWindowMs?: number;
}

function effectiveState(
  process: ProcessInfo | undefined,
  events: Pm2Event[],
  stopCodes: number[],
): ServiceState {
  if (!process) return 'missing';
  if (
    process.pid > 0 &&
    (process.status === 'online' || process.status === 'launching' || process.status === 'stopping')
  ) {
    return process.status;
  }
  if (process.status === 'errored') return 'errored';
  const last = [...events].reverse().find((event) => event.kind !== 'will-restart');
  if (last?.kind === 'gave-up') return 'errored';
  if (process.status === 'waiting restart') {
    // PM2 7 leaves "waiting restart" even when it will not restart (given up, stop exit code).
    if (process.exitCode !== undefined && stopCodes.includes(process.exitCode)) return 'stopped';
    return 'restarting';
  }
  return 'stopped';
}

function stopExitCodes(entry: ServiceEntry | undefined): number[] {
  const codes = entry?.app.stop_exit_codes;
  const list = Array.isArray(codes) ? codes : codes === undefined ? [] : [codes];
  return list.map(Number).filter(Number.isInteger);
}

/** Socket inodes open in any process of the tree of `pid`. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const member of processTree(pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${member}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${member}/fd/${fd}`);
        if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** Listening TCP sockets (IPv4 and IPv6) by local port: their inodes, read once per run. */
function listeners(): Map<number, string[]> {
  const byPort = new Map<number, string[]>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st ... inode (10th field); st 0A is LISTEN
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== '0A' || !fields[9] || fields[9] === '0') continue;
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      byPort.set(port, [...(byPort.get(port) ?? []), fields[9]]);
    }
  }
  return byPort;
}

/** The process holding the service's port when it is not the service itself. */
function foreignHolder(
  service: ServiceSnapshot,
  root: string,
  listening: Map<number, string[]>,
): PortHolder | undefined {
  const port = service.entry.port;
  if (port === undefined) return undefined;
  const inodes = listening.get(port) ?? [];
  if (inodes.length === 0) return undefined;
  const pid = service.process?.pm2Pid || service.process?.pid || 0;
  if (pid > 0 && service.state !== 'missing') {
    const own = socketInodes(pid);
    if (inodes.some((inode) => own.has(inode))) return undefined;
  }
  return portHolder(port, root);
}

const MiB = 1024 * 1024;

/** A short look suggests growth: worth watching longer. */
function looksLikeGrowing(service: ServiceSnapshot): boolean {
  const [first, last] = [service.memory[0], service.memory[service.memory.length - 1]];
  const limit = service.process?.maxMemoryRestart;
  if (first && limit && first.bytes > 0.6 * limit) return true;
  if (service.events.some((event) => event.kind === 'memory-restart' && event.time >= (service.since ?? 0)))
    return true;
  if (!first || !last || last.time <= first.time) return false;
  const growth = last.bytes - first.bytes;
  const rate = (growth / (last.time - first.time)) * 1000;
  return growth >= 256 * 1024 && rate >= 4 * MiB;
}

/** A process younger than this is still loading its modules: its memory rises for that reason. */
const WARMING_UP_MS = 8000;

function sampleMemory(services: ServiceSnapshot[]): void {
  const now = Date.now();
  for (const service of services) {
    const pid = service.process?.pid ?? 0;
    const startedAt = service.process?.startedAt ?? 0;
    if (pid > 0 && service.state === 'online' && now - startedAt >= WARMING_UP_MS) {
      const bytes = residentBytes(pid);
      if (bytes > 0) service.memory.push({ time: now, bytes });
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The selected services and everything they depend on, directly or not: where root causes live. */
function withDependencies(services: ServiceSnapshot[], selected: Set<string>): Set<string> {
  const relevant = new Set<string>();
  const byName = new Map(services.map((service) => [service.entry.name, service]));
  const visit = (name: string) => {
    const service = byName.get(name);
    if (!service || relevant.has(name)) return;
    relevant.add(name);
    for (const dep of service.entry.dependsOn) visit(dep);
    for (const dep of service.dependencies) if (dep.kind === 'service') visit(dep.name);
  };
  for (const name of selected) visit(name);
  return relevant;
}

export async function collect(options: CollectOptions): Promise<Snapshot> {
  const { ecosystem } = options;
  const now = Date.now();
  const home = pm2Home();
  const selected = new Set(
    options.selected.length > 0 ? options.selected : ecosystem.services.map((s) => s.name),
  );
  const processesPromise = listProcesses({ namespace: ecosystem.namespace });

  const services: ServiceSnapshot[] = ecosystem.services.map((entry) => {
    const host = entry.env.HOST && !['0.0.0.0', '::'].includes(entry.env.HOST) ? entry.env.HOST : '127.0.0.1';
    return {
      entry,
      process: undefined,
      state: 'missing',
      since: undefined,
      lines: [],
      errors: [],
      events: [],
      health: undefined,
      ready: undefined,
      memory: [],
      dependencies: dependenciesOf(ecosystem, entry),
      portHolder: undefined,
      host,
    };
  });

  const relevant = withDependencies(services, selected);
  const looked = services.filter((service) => relevant.has(service.entry.name));

  // The configuration dry runs (mostly cache hits) and the network checks start first. Every
  // service's: a setting shared with a service outside the dependency chain must agree too.
  const config = collectConfig(ecosystem, ecosystem.services);
  const probes = Promise.all(
    looked.map(async (service) => {
      if (service.entry.port === undefined) return;
      [service.health, service.ready] = await Promise.all([
        probeHttpPatiently(service.host, service.entry.port, '/health'),
        probeHttpPatiently(service.host, service.entry.port, '/ready'),
      ]);
    }),
  );
  const external = new Map<string, string | null>();
  const externalChecks = Promise.all(
    [
      ...new Set(
        services.flatMap((s) =>
          s.dependencies
            .filter((d) => d.kind !== 'service' || !isLocalHost(d.host))
            .map((d) => `${d.host}:${d.port}`),
        ),
      ),
    ].map(async (address) => {
      const cut = address.lastIndexOf(':');
      external.set(address, await probeTcp(address.slice(0, cut), Number(address.slice(cut + 1))));
    }),
  );

  const byName = new Map(ecosystem.services.map((entry) => [entry.name, entry]));
  const events = readPm2Events(home, (name) => stopExitCodes(byName.get(name)));
  const processes = await processesPromise;
  const daemonRunning = processes !== null;

  for (const service of services) {
    const process = processes?.find((p) => p.name === service.entry.name);
    service.process = process;
    service.events = process ? (events.get(`${process.name}:${process.pmId}`) ?? []) : [];
    service.state = effectiveState(process, service.events, stopExitCodes(service.entry));
    // Not in PM2: no run to diagnose; whatever its logs hold is from an earlier one.
    if (!relevant.has(service.entry.name) || !process) continue;
    const requested = lastRequestedStart(service.events);
    const created = process?.createdAt;
    // PM2's log has second precision; its created_at (reset by every restart asked for) has ms.
    const preciseCreated =
      requested !== undefined && created !== undefined && created >= requested && created - requested < 1500;
    const override = selected.has(service.entry.name) ? options.since : undefined;
    service.since = override ?? (preciseCreated ? created : (requested ?? created ?? process?.startedAt));
    // Only what was written since the baseline matters: the rest of a 1 GiB log is never read.
    const out = readTail(process?.outLogPath ?? service.entry.outFile, 'out', TAIL_LINES.out, service.since);
    const err = readTail(
      process?.errLogPath ?? service.entry.errorFile,
      'err',
      TAIL_LINES.err,
      service.since,
    );
    service.lines = mergeTails(out, err);
    service.errors = findErrors(service.lines);
  }
  sampleMemory(looked);

  await Promise.all([probes, externalChecks]);
  const listening = listeners();
  for (const service of looked) service.portHolder = foreignHolder(service, ecosystem.root, listening);

  sampleMemory(looked);
  const growing = looked.filter(looksLikeGrowing);
  if (growing.length > 0) {
    const windowMs = options.memoryWindowMs ?? 1500;
    const steps = 6;
    for (let step = 0; step < steps; step++) {
      await sleep(windowMs / steps);
      sampleMemory(growing);
    }
  }

  return {
    ecosystem,
    now,
    pm2Home: home,
    daemonRunning,
    services,
    selected,
    external,
    config: await config,
  };
}
