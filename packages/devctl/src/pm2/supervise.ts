// Watching services come up after a start or restart: one shared, rate-limited view of PM2's
// process list (so fifty services waiting do not mean fifty list calls per tick), the /health wait,
// and the evidence for a service that did not come up.
import type { ServiceEntry } from '../ecosystem/index';
import { type HealthResult, probeHealth } from '../ports/health';
import { describeHolder, isOwnLeftover, listeningInodes, pidOfSocket, portHolder } from '../ports/holders';
import { processTree } from '../ports/processes';
import { processList } from './index';
import { fileSize, lastLines, linesSince } from './log-tail';
import type { DaemonConnection } from './rpc';
import { type ServiceState, serviceState } from './state';
import type { ProcessInfo } from './types';

/** The daemon's process list of one namespace, fetched at most every `maxAgeMs`. */
export class ProcessWatcher {
  private snapshot: { at: number; list: ProcessInfo[] } | undefined;
  private pending: Promise<ProcessInfo[]> | undefined;

  constructor(
    private readonly connection: DaemonConnection,
    readonly namespace: string,
  ) {}

  async list(maxAgeMs = 200): Promise<ProcessInfo[]> {
    if (this.snapshot && Date.now() - this.snapshot.at <= maxAgeMs) return this.snapshot.list;
    this.pending ??= processList(this.connection, { namespace: this.namespace }).then(
      (list) => {
        this.snapshot = { at: Date.now(), list };
        this.pending = undefined;
        return list;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  async find(name: string, maxAgeMs = 200): Promise<ProcessInfo | undefined> {
    return (await this.list(maxAgeMs)).find((p) => p.name === name);
  }

  /** Forget the cached list (after an action changed it). */
  invalidate(): void {
    this.snapshot = undefined;
  }
}

/** Byte offsets of a service's log files, taken just before an action, to show what it wrote since. */
export interface LogMarks {
  out: string | undefined;
  err: string | undefined;
  outOffset: number;
  errOffset: number;
}

export function markLogs(service: ServiceEntry, info?: ProcessInfo): LogMarks {
  const out = info?.outLogPath ?? service.outFile;
  const err = info?.errLogPath ?? service.errorFile;
  return { out, err, outOffset: fileSize(out), errOffset: fileSize(err) };
}

/** Why a service is not up, with the evidence a reader needs to act. */
export interface ServiceFailure {
  /** `port-in-use`, `crashed`, `crash-loop`, `stopped`, `errored`, `timeout`, `missing`, `dependency`, `launch-failed`. */
  kind: string;
  reason: string;
  state: ServiceState;
  pm2Status: string | null;
  restarts: number;
  exitCode: number | null;
  /** The last lines of its error log written since the action (or the last ones before it, marked). */
  errorLines: string[];
  errorLinesAreOlder: boolean;
  /** The last health probe, when one ran. */
  health: HealthResult | null;
  /** The next command to run. */
  next: string;
}

export interface HealthOutcome {
  healthy: boolean;
  elapsedMs: number;
  info: ProcessInfo | undefined;
  failure?: ServiceFailure;
}

const ERROR_LINES = 12;

/** The failure record for `service`, reading the last error lines written since `marks`. */
export function describeFailure(
  service: ServiceEntry,
  info: ProcessInfo | undefined,
  marks: LogMarks | undefined,
  kind: string,
  reason: string,
  health: HealthResult | null = null,
): ServiceFailure {
  let errorLines = marks ? linesSince(marks.err, marks.errOffset, ERROR_LINES).lines : [];
  let errorLinesAreOlder = false;
  if (errorLines.length === 0 && kind !== 'port-in-use' && kind !== 'dependency') {
    errorLines = lastLines(info?.errLogPath ?? service.errorFile, ERROR_LINES);
    errorLinesAreOlder = errorLines.length > 0;
  }
  return {
    kind,
    reason,
    state: serviceState(info),
    pm2Status: info?.status ?? null,
    restarts: info?.restarts ?? 0,
    exitCode: info?.exitCode ?? null,
    errorLines,
    errorLinesAreOlder,
    health,
    next:
      kind === 'port-in-use'
        ? 'free the port (see above), then run the command again'
        : `devctl logs ${service.name} --err   (or: devctl diagnose ${service.name})`,
  };
}

async function waitUntilGone(pid: number, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || !portHolderPid(port, pid)) return true;
    await sleep(50);
  }
  return false;
}

/** True while `pid` still listens on `port`. */
function portHolderPid(port: number, pid: number): boolean {
  const inodes = listeningInodes(port);
  return inodes.length > 0 && pidOfSocket(inodes) === pid;
}

/**
 * Makes `service`'s port usable: nothing to do when it is free or held by the app's own PM2
 * process; a leftover of this same service (see isOwnLeftover) is stopped (SIGTERM, SIGKILL after
 * 5 s) and reported as `replaced`; any other holder is a `blocker`, described with its pid, command
 * line and whether it is an orphan of this project.
 */
export async function clearPort(
  service: ServiceEntry,
  root: string,
  own: ProcessInfo | undefined,
): Promise<{ blocker?: string; replaced?: number }> {
  if (service.port === undefined) return {};
  const holder = portHolder(service.port, root);
  if (!holder) return {};
  if (holder.pid !== undefined && own && own.pm2Pid > 0 && processTree(own.pm2Pid).includes(holder.pid))
    return {};
  if (holder.pid !== undefined && isOwnLeftover(holder, service.cwd, service.script)) {
    const pid = holder.pid;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    if (await waitUntilGone(pid, service.port, 5000)) return { replaced: pid };
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (await waitUntilGone(pid, service.port, 2000)) return { replaced: pid };
  }
  const advice =
    (holder.orphan || isOwnLeftover(holder, service.cwd, service.script)) && holder.pid
      ? `; stop it with: kill ${holder.pid}`
      : '';
  return { blocker: `${describeHolder(holder)}${advice}` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Crashes after the action, before giving up and calling it a crash loop. */
const CRASHES_BEFORE_GIVING_UP = 3;
const PROBE_INTERVAL_MS = 50;

/**
 * Waits until `service` answers GET /health with 2xx (or, without a port, until PM2 reports it
 * online). Gives up early when PM2 reports it errored or stopped, or it crashed
 * CRASHES_BEFORE_GIVING_UP times since the action (`restartsBefore` is PM2's count before it).
 */
export async function waitUntilHealthy(
  service: ServiceEntry,
  watcher: ProcessWatcher,
  options: {
    timeoutMs: number;
    restartsBefore: number;
    marks: LogMarks | undefined;
    /** When the action began (performance.now()), for elapsedMs; default now. */
    since?: number;
    /** The process as the launch reported it, if known (saves a list call on the fast path). */
    launched?: ProcessInfo;
  },
): Promise<HealthOutcome> {
  const started = options.since ?? performance.now();
  const deadline = started + options.timeoutMs;
  let lastHealth: HealthResult | null = null;
  let info: ProcessInfo | undefined;
  const elapsed = () => Math.round(performance.now() - started);
  const fail = (kind: string, reason: string): HealthOutcome => ({
    healthy: false,
    elapsedMs: elapsed(),
    info,
    failure: describeFailure(service, info, options.marks, kind, reason, lastHealth),
  });
  for (;;) {
    const remaining = deadline - performance.now();
    // The health probe first: a service that answers is up, and nothing else should delay the
    // services waiting for it (its port was checked free before the launch, so the answer is its).
    if (service.port !== undefined) {
      lastHealth = await probeHealth(service.port, { timeoutMs: Math.max(100, Math.min(1000, remaining)) });
      if (lastHealth.ok) {
        const launched = options.launched;
        info = launched && launched.pid > 0 ? launched : await watcher.find(service.name, 1000);
        return { healthy: true, elapsedMs: elapsed(), info };
      }
    }
    info = await watcher.find(service.name);
    if (!info) return fail('missing', `${service.name} is not in PM2 any more (deleted while starting?)`);
    const state = serviceState(info);
    if (info.status === 'errored') {
      return fail('errored', `PM2 gave up restarting it (errored after ${info.restarts} restarts)`);
    }
    if (state === 'stopped') {
      const code = info.exitCode === undefined ? '' : ` with code ${info.exitCode}`;
      return fail('stopped', `it exited${code} and PM2 did not restart it`);
    }
    const crashes = info.restarts - options.restartsBefore;
    if (crashes >= CRASHES_BEFORE_GIVING_UP) {
      return fail(
        'crash-loop',
        `it crashed ${crashes} times since the start (crash loop; last exit code ${info.exitCode ?? '?'})`,
      );
    }
    if (service.port === undefined && state === 'online')
      return { healthy: true, elapsedMs: elapsed(), info };
    if (performance.now() >= deadline) {
      const last = lastHealth ? `; last /health probe: ${lastHealth.error}` : '';
      return fail(
        'timeout',
        `no healthy answer within ${Math.round(options.timeoutMs / 1000)} s (PM2 status ${info.status}${last})`,
      );
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}

/** What a lifecycle command did to one service (the `services[]` items of start/restart/stop/delete --json). */
export interface ServiceResult {
  name: string;
  /**
   * started | restarted | already running | not started | stopped | already stopped | deleted |
   * not in PM2
   */
  action: string;
  /** False when the command failed for this service (the exit code is then 1). */
  ok: boolean;
  /** True/false when its /health was waited for; null when it was not. */
  healthy: boolean | null;
  state: ServiceState;
  pid: number | null;
  port: number | null;
  /** From the action to healthy (or to giving up), when waited for. */
  elapsedMs: number | null;
  /** Why it is not ok, with the evidence; null when ok. */
  failure: ServiceFailure | null;
  /** A short note for people (`depends on data-service`, `PM2 had it stopped`). */
  note: string | null;
}
