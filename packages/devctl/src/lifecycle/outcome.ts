// What a lifecycle action reports per service (the `services[]` items of start/restart/stop/delete
// --json), and the evidence for a service that did not come up.
import type { ServiceEntry } from '../ecosystem/index';
import { fileSize, lastLines, linesSince } from '../pm2/log-tail';
import { type ServiceState, serviceState } from '../pm2/state';
import type { ProcessInfo } from '../pm2/types';
import type { HealthResult } from '../probe';

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
  /**
   * `port-in-use`, `crashed`, `crash-loop`, `stopped`, `errored`, `timeout`, `missing`,
   * `dependency`, `launch-failed`, `not-settled` (PM2 kept relaunching it), `pm2-error`.
   */
  kind: string;
  reason: string;
  state: ServiceState;
  pm2Status: string | null;
  restarts: number;
  exitCode: number | null;
  /** The last lines of its error log written since the action (or the last ones before it, marked). */
  errorLines: string[];
  errorLinesAreOlder: boolean;
  /**
   * The error lines came from PM2's bus, not its error log: PM2 published them but did not write
   * them (see src/pm2/error-output.ts).
   */
  errorLinesFromBus: boolean;
  /** The last health probe, when one ran. */
  health: HealthResult | null;
  /** The next command to run. */
  next: string;
}

/** What a lifecycle command did to one service. */
export interface ServiceResult {
  name: string;
  /**
   * started | restarted | already running | not started | not restarted | stopped |
   * already stopped | deleted | not in PM2
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
  /** A short note for people (`depends on data-service`, `was crash-loop`). */
  note: string | null;
}

/** Where a lifecycle action reports progress: each service's result as it happens, and notes. */
export interface LifecycleSink {
  line(text: string): void;
  service(result: ServiceResult): void;
  /**
   * A line that must reach people even when the answer is machine output (what a command waits
   * for, a lock taken over); `line` is used when absent.
   */
  notice?(text: string): void;
}

export const ERROR_LINES = 12;

/** The failure record for `service`, reading the last error lines written since `marks`. */
export function describeFailure(
  service: ServiceEntry,
  info: ProcessInfo | undefined,
  marks: LogMarks | undefined,
  kind: string,
  reason: string,
  health: HealthResult | null = null,
  /** What it wrote to stderr during the action, as PM2's bus published it (ErrorOutput). */
  published: string[] = [],
): ServiceFailure {
  let errorLines = marks ? linesSince(marks.err, marks.errOffset, ERROR_LINES).lines : [];
  let errorLinesAreOlder = false;
  const errorLinesFromBus = published.length > errorLines.length;
  if (errorLinesFromBus) errorLines = published.slice(-ERROR_LINES);
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
    errorLinesFromBus,
    health,
    next:
      kind === 'port-in-use'
        ? 'free the port (see above), then run the command again'
        : `devctl logs ${service.name} --err   (or: devctl diagnose ${service.name})`,
  };
}

/**
 * The result for a service left alone because a service it depends on is not healthy: start and
 * restart say the same thing, with their own verb and next command.
 */
export function blockedByDependency(
  service: ServiceEntry,
  state: ServiceState,
  blocker: string,
  action: 'not started' | 'not restarted',
  retry: string,
): ServiceResult {
  return {
    name: service.name,
    port: service.port ?? null,
    elapsedMs: null,
    note: null,
    action,
    ok: false,
    healthy: null,
    state,
    pid: null,
    failure: {
      ...describeFailure(
        service,
        undefined,
        undefined,
        'dependency',
        `depends on ${blocker}, which is not healthy`,
      ),
      next: `fix ${blocker} first (see above), then: ${retry}`,
    },
  };
}
