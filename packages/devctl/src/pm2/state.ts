import type { ProcessInfo } from './types';

/** The state devctl shows for a service: PM2's status, with crash loops told apart. */
export type ServiceState =
  | 'online'
  | 'launching'
  | 'stopping'
  | 'stopped'
  | 'errored'
  | 'crash-loop'
  /** In the ecosystem but not in PM2 (never started, or deleted). */
  | 'not started';

/** PM2 forgets the backoff delay after 30 s of uptime (EXP_BACKOFF_RESET_TIMER). */
const BACKOFF_RESET_MS = 30_000;

/**
 * Derives the state from one PM2 snapshot. A crash loop is a process PM2 keeps restarting: waiting
 * out a restart delay, or up again after consecutive automatic restarts for less than the backoff
 * reset window (or its min_uptime). PM2 itself says "errored" only once it gives up.
 */
export function serviceState(info: ProcessInfo | undefined, now = Date.now()): ServiceState {
  if (!info) return 'not started';
  switch (info.status) {
    case 'errored':
      return 'errored';
    case 'waiting restart':
      // PM2 (7.0.4) also leaves this status on an app it will NOT restart, when it has an
      // exp_backoff_restart_delay and exited with a stop_exit_codes code (or autorestart is off).
      if (!info.autorestart || (info.exitCode !== undefined && info.stopExitCodes.includes(info.exitCode))) {
        return 'stopped';
      }
      return 'crash-loop';
    case 'stopped':
      return 'stopped';
    case 'stopping':
      return 'stopping';
    case 'launching':
    case 'one-launch-status':
    case 'online': {
      const uptime = info.startedAt === undefined ? 0 : now - info.startedAt;
      // PM2 sets the backoff delay to its base on every exit, a requested restart included, and
      // grows it only on consecutive automatic restarts; a requested restart resets
      // unstable_restarts but may count itself once. So: two or more of either means a loop.
      const backoffGrew = info.backoffBaseDelay > 0 && info.restartDelay > info.backoffBaseDelay;
      const recentlyCrashed =
        (backoffGrew && uptime < BACKOFF_RESET_MS) ||
        (info.unstableRestarts >= 2 && uptime < (info.minUptime ?? 1000));
      if (recentlyCrashed) return 'crash-loop';
      return info.status === 'online' ? 'online' : 'launching';
    }
    default:
      return 'stopped';
  }
}

/**
 * The state diagnose works from: serviceState's words, but a process that runs keeps PM2's own
 * status (online, launching, stopping) -- diagnose tells a loop from PM2's log of crashes, and a
 * process that answers is probed as online -- and one PM2's log says it gave up on is errored
 * (its status may still read "waiting restart" or "stopped").
 */
export function observedState(
  info: ProcessInfo | undefined,
  gaveUp: boolean,
  now = Date.now(),
): ServiceState {
  if (!info) return 'not started';
  if (
    info.pid > 0 &&
    (info.status === 'online' || info.status === 'launching' || info.status === 'stopping')
  ) {
    return info.status;
  }
  const state = serviceState(info, now);
  if (state === 'errored' || gaveUp) return 'errored';
  return state === 'crash-loop' ? 'crash-loop' : 'stopped';
}

/** True for states in which the process runs (or is about to). */
export function isRunningState(state: ServiceState): boolean {
  return state === 'online' || state === 'launching' || state === 'crash-loop';
}
