import { readCache, writeCache } from '../cache';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { readTimings } from '../graph/timings';
import { parentPid } from '../lifecycle/instances';
import { listProcesses, pm2Home } from '../pm2/index';
import { fileSize, settleExitOutput } from '../pm2/log-tail';
import { observedState, type ServiceState } from '../pm2/state';
import type { ProcessInfo } from '../pm2/types';
import { type PortHolder, portHolder } from '../ports/holders';
import {
  availableMemory as availableMemoryOfMachine,
  listeningSockets,
  processTree,
  residentBytes,
  serverPid,
  socketInodesOf,
} from '../ports/processes';
import { type HttpProbe, probeHttpPatiently, probeTcp } from '../probe';
import { type ConfigSnapshot, collectConfig } from './config-snapshot';
import { type Dependency, dependenciesOf, isLocalHost } from './dependencies';
import { MIN_GROWTH, steadyGrowth } from './detectors/memory';
import { type CpuUse, isIdle, readStuckStack, type StuckStack, sampleCpu } from './inspect';
import { findErrors, type LoggedError, type LogLine, mergeTails, readTail, TAIL_LINES } from './log-tail';
import { lastRequestedStart, type Pm2Event, readPm2Events } from './pm2-log';
import type { LaunchRecord } from './restart-windows';

export type { ServiceState };

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
  /** devctl's record of its last start/restart --wait (when /health answered), if any. */
  launch?: LaunchRecord;
  health: HttpProbe | undefined;
  ready: HttpProbe | undefined;
  memory: MemorySample[];
  /** The last look at this same process by an earlier diagnose (1 s to 15 min ago), if any. */
  memoryEarlier?: MemorySample;
  dependencies: Dependency[];
  /** A process other than the service itself listening on the service's port. */
  portHolder: PortHolder | undefined;
  host: string;
  /**
   * Online but /health got no answer, twice: the main thread's CPU over a second, and, when it is
   * busy, the JavaScript stack it runs (source-mapped) or why it could not be read.
   */
  stuck?: { cpu: CpuUse | undefined; stack: StuckStack | undefined };
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
  /** The machine's available memory (bytes), read when a service's memory grows. */
  availableMemory?: number;
  /** Each kit service's configuration as its next start would read it (config-snapshot.ts). */
  config?: ConfigSnapshot;
}

export interface CollectOptions {
  ecosystem: Ecosystem;
  selected: string[];
  /** For the selected services, errors since this time instead of their last requested start (restart --wait). */
  since?: number;
  /** For every service, nothing before this time counts (`diagnose --since`). */
  notBefore?: number;
  /** Resident memory is sampled for up to this long when a process looks like it grows (default 1500 ms). */
  memoryWindowMs?: number;
  /** How long reading the stack of a busy, unanswering process may take in all (default 4000 ms). */
  inspectTimeoutMs?: number;
}

/** Whether PM2's last word on a process, other than a scheduled restart, is that it gave up. */
const gaveUp = (events: Pm2Event[]) =>
  [...events].reverse().find((event) => event.kind !== 'will-restart')?.kind === 'gave-up';

function stopExitCodes(entry: ServiceEntry | undefined): number[] {
  const codes = entry?.app.stop_exit_codes;
  const list = Array.isArray(codes) ? codes : codes === undefined ? [] : [codes];
  return list.map(Number).filter(Number.isInteger);
}

/** Socket inodes open in any process of the tree of `pid`. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const member of processTree(pid)) for (const inode of socketInodesOf(member)) inodes.add(inode);
  return inodes;
}

/** The process holding the service's port when it is not the service itself. */
function foreignHolder(
  service: ServiceSnapshot,
  root: string,
  listening: Map<number, string[]>,
  /** The PM2 daemon of a running cluster instance of this service, which listens for it. */
  clusterDaemon?: number,
): PortHolder | undefined {
  const port = service.entry.port;
  if (port === undefined) return undefined;
  const inodes = listening.get(port) ?? [];
  if (inodes.length === 0) return undefined;
  const pid = service.process?.pm2Pid || service.process?.pid || 0;
  const own = pid > 0 && service.state !== 'not started' ? socketInodes(pid) : new Set<string>();
  // Cluster mode (several instances): the PM2 daemon that forked them holds the port for them all.
  if (clusterDaemon !== undefined) for (const inode of socketInodesOf(clusterDaemon)) own.add(inode);
  if (inodes.some((inode) => own.has(inode))) return undefined;
  return portHolder(port, root);
}

const MiB = 1024 * 1024;

/**
 * Growth fast enough to watch: at this rate a leak passes MIN_GROWTH within the longest window.
 * Slower growth cannot be told from a heap settling in a second and a half, so it is not watched.
 */
const WATCH_RATE = 4 * MiB;
/** The second look at memory comes at least this long after the first (see watchMemory). */
const SECOND_LOOK_FLOOR_MS = 100;
/** Within one run the two looks are 0.1-1 s apart: less than this is allocation noise. */
const WATCH_MIN_GROWTH_IN_RUN = MiB;

/**
 * Worth watching longer: near max_memory_restart, restarted for memory since the last start, or
 * growing fast between this run's two looks, or since the last run's look at the same process
 * (node_modules/.cache/devctl/memory.json). Everything else costs no wait at all.
 */
export function looksLikeGrowing(service: ServiceSnapshot, earlier: MemorySample | undefined): boolean {
  const [first, last] = [service.memory[0], service.memory[service.memory.length - 1]];
  const limit = service.process?.maxMemoryRestart;
  if (first && limit && first.bytes > 0.6 * limit) return true;
  if (service.events.some((event) => event.kind === 'memory-restart' && event.time >= (service.since ?? 0)))
    return true;
  if (!first || !last) return false;
  const fast = (from: MemorySample, minGrowth: number) =>
    last.time > from.time &&
    last.bytes - from.bytes >= minGrowth &&
    ((last.bytes - from.bytes) / (last.time - from.time)) * 1000 >= WATCH_RATE;
  return fast(first, WATCH_MIN_GROWTH_IN_RUN) || (earlier !== undefined && fast(earlier, MIN_GROWTH));
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

/**
 * Whether to stop watching: the verdict is clear before the window ends. A leak shows within
 * ~0.75 s; a process that cannot reach MIN_GROWTH by the end of the window at its rate so far, or
 * that gave memory back, will not be called growing, so watching it longer only costs time.
 */
export function watchedEnough(samples: MemorySample[], windowStart: number, windowMs: number): boolean {
  // The window's base: the last look before it (the run's own second look).
  const base = samples.filter((sample) => sample.time < windowStart).at(-1) ?? samples[0];
  const last = samples[samples.length - 1];
  if (!base || !last || last === base) return false;
  const elapsed = last.time - windowStart;
  const previous = samples[samples.length - 2];
  if (previous && previous.bytes - last.bytes > Math.max(4 * MiB, 0.02 * previous.bytes)) return true;
  if (elapsed >= 750 && steadyGrowth(samples)) return true;
  if (elapsed >= 300) {
    // What the samples would show at the end of the window if the rate since its base went on.
    const first = samples[0] as MemorySample;
    const rate = (last.bytes - base.bytes) / (last.time - base.time);
    if (last.bytes - first.bytes + rate * (windowMs - elapsed) < MIN_GROWTH) return true;
  }
  return false;
}

/**
 * The last resident-memory look at each service, kept between runs (node_modules/.cache/devctl,
 * as the config dry runs are): a later run compares with it at no cost. Only pid, time and bytes.
 */
class MemoryHistory {
  private readonly entries: Record<string, { pid: number; time: number; bytes: number }>;

  constructor(private readonly root: string) {
    this.entries = (readCache(root, 'memory.json') ?? {}) as typeof this.entries;
  }

  /** The last look at this process, when it is from an earlier run of the last 15 minutes. */
  earlier(service: ServiceSnapshot, now: number): MemorySample | undefined {
    const entry = this.entries[service.entry.name];
    if (!entry || entry.pid !== service.process?.pid) return undefined;
    return now - entry.time >= 1000 && now - entry.time <= 15 * 60_000 ? entry : undefined;
  }

  save(services: ServiceSnapshot[]): void {
    for (const service of services) {
      const last = service.memory[service.memory.length - 1];
      if (last && service.process) this.entries[service.entry.name] = { pid: service.process.pid, ...last };
    }
    // Unwritable (a read-only checkout): the next run only has its own looks.
    writeCache(this.root, 'memory.json', this.entries);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a probe got no answer at all (both tries): the service may be stuck. */
const noAnswer = (probe: HttpProbe | undefined) =>
  probe !== undefined && probe.status === null && probe.error?.startsWith('no answer') === true;

/**
 * The selected services and everything they call, directly or not: where root causes live. Not the
 * ecosystem's withDependencies (depends_on only): a service's URL variables name callees too.
 */
function withCallees(services: ServiceSnapshot[], selected: Set<string>): Set<string> {
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

/**
 * The second look at memory (when the probes are done, within 0.1-1 s), then, for the services
 * that look like growing, more looks up to `windowMs` until each verdict is clear. Saves the last
 * look for the next run. Resolves with the machine's available memory when something grows.
 */
async function watchMemory(
  looked: ServiceSnapshot[],
  root: string,
  probing: Promise<unknown>,
  windowMs: number,
): Promise<number | undefined> {
  // The second look comes when the probes are done -- at least 100 ms and at most 1 s after the
  // first -- since diagnose waits for them anyway: the longer stretch is free. Capped at 250 ms, a
  // loaded CI machine (load 11 on 2 cores) left a 25 MiB/s leak too little CPU between the looks
  // to grow 1 MiB, and a 611 MiB leak went unseen; a floor of 250 ms made every diagnose of a
  // healthy stack (probes done in ~50 ms) wait ~200 ms for nothing (0.6 s against 0.1 s for
  // `node -e 0`), so the floor is 100 ms (2.5 MiB at 25 MiB/s). The cap's timer is unref'd (when the
  // probes win, it must not keep devctl from exiting); the floor's must not be, or a run whose probes
  // are done has nothing left to wait on and Node exits before the answer is printed.
  const cap = new Promise((resolve) => setTimeout(resolve, 1000).unref());
  await Promise.all([sleep(SECOND_LOOK_FLOOR_MS), Promise.race([probing, cap])]);
  sampleMemory(looked);
  const history = new MemoryHistory(root);
  for (const service of looked) service.memoryEarlier = history.earlier(service, Date.now());
  const growing = looked.filter((service) => looksLikeGrowing(service, service.memoryEarlier));
  let available: number | undefined;
  if (growing.length > 0) {
    const stepMs = windowMs / 10;
    const windowStart = Date.now();
    let watched = growing;
    while (watched.length > 0 && Date.now() - windowStart < windowMs) {
      await sleep(stepMs);
      sampleMemory(watched);
      watched = watched.filter((service) => !watchedEnough(service.memory, windowStart, windowMs));
    }
    available = availableMemoryOfMachine();
  }
  history.save(looked);
  return available;
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
      state: 'not started',
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

  const relevant = withCallees(services, selected);
  const looked = services.filter((service) => relevant.has(service.entry.name));

  // The configuration dry runs (mostly cache hits) start first too. Every service's: a setting
  // shared with a service outside the dependency chain must agree too.
  const config = collectConfig(ecosystem, ecosystem.services);
  // Network checks start first and run while the files are read. A /health that gets no answer
  // in its first try has the CPU of its process sampled during the second: a stuck service costs
  // the second try, not the second try plus the sample.
  const cpuSamples = new Map<ServiceSnapshot, Promise<CpuUse | undefined>>();
  const probing = Promise.all(
    looked.map(async (service) => {
      if (service.entry.port === undefined) return;
      [service.health, service.ready] = await Promise.all([
        probeHttpPatiently(service.host, service.entry.port, '/health', () => {
          const pid = service.process?.pid ?? 0;
          if (pid > 0 && service.state === 'online') cpuSamples.set(service, sampleCpu(serverPid(pid), 1000));
        }),
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

  const timings = readTimings(ecosystem.root);
  for (const service of services) {
    const timing = timings[service.entry.name];
    if (timing)
      service.launch = {
        launchedAt: Date.parse(timing.launchedAt),
        healthyAt: timing.healthyAt === null ? null : Date.parse(timing.healthyAt),
      };
  }
  const byName = new Map(ecosystem.services.map((entry) => [entry.name, entry]));
  const events = readPm2Events(home, (name) => stopExitCodes(byName.get(name)));
  const processes = await processesPromise;
  const daemonRunning = processes !== null;

  const clusterDaemons = new Map<string, number>();
  for (const service of services) {
    // Several instances (cluster mode): diagnose one that is not online, if any -- the others
    // serve the port, so its fault would hide behind their answers.
    const instances = processes?.filter((p) => p.name === service.entry.name) ?? [];
    const process =
      instances.find((p) => observedState(p, gaveUp(events.get(`${p.name}:${p.pmId}`) ?? [])) !== 'online') ??
      instances[0];
    const running = instances.find((p) => p.clustered && p.pm2Pid > 0);
    const daemon = running ? parentPid(running.pm2Pid) : undefined;
    if (daemon !== undefined) clusterDaemons.set(service.entry.name, daemon);
    service.process = process;
    service.events = process ? (events.get(`${process.name}:${process.pmId}`) ?? []) : [];
    service.state = observedState(process, gaveUp(service.events));
  }
  // The first look at memory, as early as possible: the later one then sees a longer stretch.
  sampleMemory(looked);
  // Memory is watched alongside the probes, not after them: a probe waiting 6.5 s on a stuck
  // service must not delay (nor stretch) the look at a leak elsewhere.
  const memoryWatch = watchMemory(looked, ecosystem.root, probing, options.memoryWindowMs ?? 1500);

  for (const service of services) {
    const process = service.process;
    // Not in PM2: no run to diagnose; whatever its logs hold is from an earlier one.
    if (!relevant.has(service.entry.name) || !process) continue;
    const requested = lastRequestedStart(service.events);
    const created = process?.createdAt;
    // PM2's log has second precision; its created_at (reset by every restart asked for) has ms.
    const preciseCreated =
      requested !== undefined && created !== undefined && created >= requested && created - requested < 1500;
    const override = selected.has(service.entry.name) ? options.since : undefined;
    const baseline = override ?? (preciseCreated ? created : (requested ?? created ?? process?.startedAt));
    service.since = options.notBefore === undefined ? baseline : Math.max(baseline ?? 0, options.notBefore);
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
  await settleRecentExits(services);
  await Promise.all([probing, externalChecks]);
  const listening = listeningSockets();
  for (const service of looked)
    service.portHolder = foreignHolder(
      service,
      ecosystem.root,
      listening,
      clusterDaemons.get(service.entry.name),
    );

  // Stuck services (no answer on either try): the CPU sampled meanwhile, and for a busy main
  // thread, the stack it is stuck in. Only for those: a service that answers is never paused.
  const stuckLooks = Promise.all(
    [...cpuSamples].map(async ([service, sample]) => {
      const cpu = await sample;
      if (!noAnswer(service.health)) return;
      const pid = cpu?.pid ?? 0;
      const stack =
        cpu && !isIdle(cpu)
          ? await readStuckStack(pid, {
              root: ecosystem.root,
              servicePort: service.entry.port,
              timeoutMs: options.inspectTimeoutMs,
            })
          : undefined;
      service.stuck = { cpu, stack };
    }),
  );

  const availableMemory = await memoryWatch;
  await stuckLooks;

  return {
    ecosystem,
    now,
    pm2Home: home,
    daemonRunning,
    services,
    selected,
    external,
    availableMemory,
    config: await config,
  };
}

/** An exit this recent may still have its last lines on their way to the log file. */
const RECENT_EXIT_MS = 5000;

/**
 * A service that exited moments ago with nothing in its error log since its start: PM2 records an
 * exit before it writes the process's last output, so its log is read again once that has landed
 * (bounded; a process that printed nothing costs that bound, and only within seconds of its exit).
 */
async function settleRecentExits(services: ServiceSnapshot[]): Promise<void> {
  const now = Date.now();
  await Promise.all(
    services.map(async (service) => {
      const process = service.process;
      if (!process || service.state === 'online' || process.exitCode === undefined) return;
      // pm2.log (second precision) may not hold the exit yet either: a start this recent counts too.
      const exited = service.events.findLast((event) => event.kind === 'exited');
      const lastSign = Math.max(exited ? exited.time + 1000 : 0, process.startedAt ?? 0);
      if (now - lastSign > RECENT_EXIT_MS) return;
      if (service.lines.some((line) => line.stream === 'err')) return;
      const path = process.errLogPath ?? service.entry.errorFile;
      // The same bound as start's: 3 s ran out once in a whole `pnpm test` (diagnose-faults: billing
      // exited 78, "its log tail does not name the variable", the variable's line landing later).
      // Only a service that exited within RECENT_EXIT_MS with nothing on stderr waits it whole.
      await settleExitOutput(path, fileSize(path));
      const out = readTail(process.outLogPath ?? service.entry.outFile, 'out', TAIL_LINES.out, service.since);
      const err = readTail(path, 'err', TAIL_LINES.err, service.since);
      service.lines = mergeTails(out, err);
      service.errors = findErrors(service.lines);
    }),
  );
}
