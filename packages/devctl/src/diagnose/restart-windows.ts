// When a stack service was down because it was (re)starting: from the moment it went down (a stop
// or restart asked for, or an exit PM2 restarted it after) until it answered again. A caller that
// failed to reach it within such a window met the restart, not a fault: worker-service polls
// data-service every 500 ms and logs ECONNREFUSED at every `restart data-service` (trial 9: a
// warning, minutes after a clean restart, once data-service's "listening" line had left its log tail).
// The facts: PM2's own log of the service (pm2-log.ts: stops, exits, starts, each crash or asked-for
// one), devctl's record of its last start/restart --wait (graph/timings.ts: when /health answered),
// and the service's "listening" lines in its log tail.
import type { Pm2Event } from './pm2-log';

export interface DownWindow {
  /**
   * `restart`: stopped and started again by one restart (or a stop, then a start within seconds);
   * `stop`: stopped, started again later; `crash`: exited on its own (or over its memory limit) and
   * PM2 restarted it; `start`: its first start in this daemon's log.
   */
  cause: 'restart' | 'stop' | 'crash' | 'start';
  /** When it went down: PM2's line for the stop or the exit (its second, so the start of that second). */
  from: number;
  /** When PM2 started it again (the start of that second). */
  startedAt: number;
  /** When it answered again (ms). */
  to: number;
  /**
   * How `to` is known: `devctl` (start/restart --wait saw /health answer), `listening` (the line the
   * service logs once it listens), `assumed` (neither is left: PM2's start plus BOOT_ALLOWANCE_MS).
   */
  answered: 'devctl' | 'listening' | 'assumed';
}

/** devctl's record of the service's last launch (graph/timings.ts), in ms. */
export interface LaunchRecord {
  launchedAt: number;
  healthyAt: number | null;
}

/**
 * When nothing says when a start began to answer (its "listening" line has left the log tail and no
 * start --wait recorded it): a kit service listens within about a second of PM2's start; this
 * allows for a loaded machine. Only failures to connect fall in a window, and a service that listens
 * has no reason to refuse connections, so the allowance only matters for a start nobody watched.
 */
export const BOOT_ALLOWANCE_MS = 3000;

/** A stop followed by a start within this long is one restart; a longer gap is a stop, then a start. */
const RESTART_GAP_MS = 10_000;

/** devctl notes its launch just before or after PM2 logs the start (PM2's line has second precision). */
const LAUNCH_MATCH_MS = 2000;

/** PM2 sets created_at and pm_uptime a moment apart at a start asked for. */
const CREATED_MATCH_MS = 1500;

/** The start of the second `ms` falls in: PM2's log stamps its lines to the second. */
export const second = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * Every window in which the service was down for a (re)start, oldest first, from PM2's events (as
 * readPm2Events marks them), devctl's record of its last launch and the times of its "listening"
 * lines. A stop with no start after it is no window: the service is still down, or PM2's log does
 * not say when it came back, and either way failures to reach it are not explained by a restart.
 */
export function downWindows(
  events: Pm2Event[],
  launch: LaunchRecord | undefined,
  listening: number[],
  /**
   * The running process (PM2's process list): when it started (pm_uptime), and when PM2 last reset
   * its created_at, which every start, restart or reload asked for does (God.resetState) and PM2's
   * own restart after an exit does not. Its start counts even when PM2's log does not hold it (a log
   * cut short, or lines lost), as asked for only when created_at says so.
   */
  process?: { startedAt: number; createdAt?: number },
): DownWindow[] {
  if (process !== undefined) {
    const { startedAt, createdAt } = process;
    const logged = events.some(
      (event) => event.kind === 'starting' && Math.abs(second(event.time) - second(startedAt)) <= 1000,
    );
    if (!logged) {
      const automatic = createdAt === undefined || startedAt - createdAt > CREATED_MATCH_MS;
      const start: Pm2Event = { time: startedAt, kind: 'starting', name: '', pmId: -1, text: '', automatic };
      events = [...events.filter((event) => event.time < startedAt), start];
    }
  }
  const windows: DownWindow[] = [];
  // A "listening" line belongs to the start before it, and only until the service next went down.
  const goesDown = (event: Pm2Event) =>
    event.kind === 'stopping' || event.kind === 'exited' || event.kind === 'memory-restart';
  // devctl's record belongs to one start: the one nearest its launch. Two starts seconds apart (a
  // start, then a restart right after it) would both be within the match, and the first would take
  // the restart's answer as its own end, swallowing the restart's window.
  let recordedStart: number | undefined;
  if (launch?.healthyAt != null) {
    let nearest = Number.POSITIVE_INFINITY;
    for (const [index, event] of events.entries()) {
      if (event.kind !== 'starting') continue;
      const distance = Math.abs(launch.launchedAt - second(event.time));
      if (distance <= LAUNCH_MATCH_MS && distance <= nearest) {
        nearest = distance;
        recordedStart = index;
      }
    }
  }
  let down: { from: number; crash: boolean } | undefined;
  for (const [index, event] of events.entries()) {
    if (event.kind === 'stopping' || event.kind === 'memory-restart') {
      down ??= { from: second(event.time), crash: event.kind === 'memory-restart' };
    } else if (event.kind === 'exited') {
      down ??= { from: second(event.time), crash: event.crash === true };
    } else if (event.kind === 'starting') {
      const startedAt = second(event.time);
      const cause: DownWindow['cause'] =
        down?.crash || event.automatic
          ? 'crash'
          : !down
            ? 'start'
            : startedAt - down.from > RESTART_GAP_MS
              ? 'stop'
              : 'restart';
      const recorded =
        index === recordedStart && launch?.healthyAt != null && launch.healthyAt >= startedAt
          ? launch.healthyAt
          : undefined;
      const next = events.slice(index + 1).find(goesDown);
      // Its second's end: PM2 logs the exit in the second the process ended, after any line it wrote.
      const nextDown = next ? second(next.time) + 1000 : Number.POSITIVE_INFINITY;
      const listened = listening.find((time) => time >= startedAt && time < nextDown);
      const to = recorded ?? listened ?? startedAt + 1000 + BOOT_ALLOWANCE_MS;
      windows.push({
        cause,
        from: down?.from ?? startedAt,
        startedAt,
        to,
        answered: recorded !== undefined ? 'devctl' : listened !== undefined ? 'listening' : 'assumed',
      });
      down = undefined;
    }
  }
  // A window cannot outlast the next one's start: the service went down again before it.
  for (let index = 0; index < windows.length - 1; index++) {
    const window = windows[index] as DownWindow;
    const next = windows[index + 1] as DownWindow;
    if (window.answered === 'assumed' && window.to > next.from)
      window.to = Math.max(window.startedAt, next.from);
  }
  return windows;
}

/** A caller logs a failed call after it failed: the same moment can be stamped this much later. */
export const LOG_SKEW_MS = 500;

/**
 * The window a failure at `time` falls in. `precise` false: the time is PM2's prefix, the start of
 * its second, so any moment of that second counts.
 */
export function windowAt(windows: DownWindow[], time: number, precise: boolean): DownWindow | undefined {
  const latest = precise ? time : time + 999;
  return windows.find((window) => latest >= window.from && time <= window.to + LOG_SKEW_MS);
}

/**
 * A window someone asked for: a start, restart, reload or stop (then a start) by a user or devctl.
 * A crash window is not: the service exited on its own (an uncaught error, process.exit, the OOM
 * killer's SIGKILL, its memory limit) and PM2 restarted it; its callers' failures then are the
 * evidence of that crash, which may have logged nothing of its own.
 */
export const askedFor = (window: DownWindow): boolean => window.cause !== 'crash';

/**
 * The window of a (re)start someone asked for that a failure at `time` falls in: such a failure met
 * that restart and is no finding. A failure that may also have met a crash (the windows touch, within
 * the margins of windowAt) is not excused: the crash is the likelier cause, and a silent one has no
 * other evidence.
 */
export function askedWindowAt(windows: DownWindow[], time: number, precise: boolean): DownWindow | undefined {
  if (
    windowAt(
      windows.filter((window) => !askedFor(window)),
      time,
      precise,
    )
  )
    return undefined;
  return windowAt(windows.filter(askedFor), time, precise);
}

const clockOf = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

/** "restarted at 21:54:29": what the service did in the window. */
function windowPhrase(window: DownWindow): string {
  switch (window.cause) {
    case 'restart':
      return `restarted at ${clockOf(window.from)}`;
    case 'stop':
      return `was stopped (${clockOf(window.from)}-${clockOf(window.startedAt)})`;
    case 'crash':
      return `restarted after a crash at ${clockOf(window.from)}`;
    case 'start':
      return `started at ${clockOf(window.startedAt)}`;
  }
}

/**
 * "data-service restarted at 21:54:29", "inventory started at 22:08:06 and restarted at 22:08:08":
 * the restarts a service's calls met, for its `checked:` line, each service named once.
 */
export function describeRestarts(met: { service: string; window: DownWindow }[]): string {
  const byService = new Map<string, DownWindow[]>();
  for (const { service, window } of met) byService.set(service, [...(byService.get(service) ?? []), window]);
  return [...byService]
    .map(
      ([service, windows]) =>
        `${service} ${windows
          .sort((a, b) => a.from - b.from)
          .map(windowPhrase)
          .join(' and ')}`,
    )
    .join('; ');
}
