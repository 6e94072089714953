// The state machine of one PM2 app: how to bring a service up, or take it down, from wherever PM2
// is in its cycle -- launching, online, waiting restart (the exponential back-off between
// crashes), stopping, stopped, errored -- at the first call.
//
// What PM2 7.0.4 does (lib/God.js handleExit, lib/God/ActionMethods.js), and why this module never
// asks it to restart a process that is not cleanly stopped:
// - After a crash PM2 sets "waiting restart" and arms a timer (restart_task) but keeps the dead
//   pid in the app's slot. `restartProcessId` on such an app does not stop it: it goes straight
//   to `startProcessId`, which refuses ("Process with pid N already exists"), after having merged
//   the new env -- so PM2's own timer later relaunches it on the new settings, unasked.
// - `stopProcessId` clears that timer and marks the app stopped with no pid. But when the timer has
//   already fired, the relaunch is in flight (executeApp opens the log files asynchronously, then
//   spawns) and overwrites the slot after the stop: the app is "launching" again on the OLD
//   settings, or, after a delete, a child PM2 no longer lists holds the port.
// So bringing up is: stop, confirm that PM2 reports it stopped with no pid, that its processes are
// gone and that no relaunch comes back (stopping again if one does), then start it from "stopped",
// which PM2 does without races. Taking down is the same confirmation, then delete.
import type { ServiceEntry } from '../ecosystem/index';
import {
  deleteProcess,
  launchApp,
  removedAppEnvKeys,
  restartEnv,
  restartProcess,
  stopProcess,
} from '../pm2/index';
import type { DaemonConnection } from '../pm2/rpc';
import { serviceState } from '../pm2/state';
import type { ProcessWatcher } from '../pm2/supervise';
import type { ProcessInfo } from '../pm2/types';
import { portHolder } from '../ports/holders';
import { type LogMarks, markLogs } from './outcome';
import { clearPort, isAlive, isLostProcessOf, listenerPid, sleep, stopLeftover } from './port';

/**
 * How long after a stop a relaunch that PM2 had already begun can still appear in its list: the
 * time executeApp takes to open two log files and spawn (milliseconds; generous for a loaded
 * machine). Waited only when PM2 may have been relaunching (see mayBeRelaunching).
 */
const RELAUNCH_WINDOW_MS = 400;
/** Stops before giving up on an app that PM2 keeps relaunching. */
const MAX_STOPS = 5;
const POLL_MS = 50;

export interface CycleContext {
  connection: DaemonConnection;
  watcher: ProcessWatcher;
  root: string;
}

/** True when PM2 may be relaunching the app on its own (a crash loop in progress). */
export function mayBeRelaunching(info: ProcessInfo): boolean {
  return (
    info.status === 'waiting restart' ||
    info.status === 'launching' ||
    info.status === 'one-launch-status' ||
    serviceState(info) === 'crash-loop'
  );
}

export type SettleOutcome =
  | { ok: true; info: ProcessInfo | undefined; wasCrashing: boolean; settledAt: number }
  | { ok: false; info: ProcessInfo | undefined; reason: string };

/**
 * Stops the app and waits until it is really stopped: PM2 says "stopped" with no pid, every pid it
 * had is gone, and (when PM2 may have been relaunching) no relaunch shows up within
 * RELAUNCH_WINDOW_MS. A relaunch that does is stopped again. `info` undefined: the app is no
 * longer in PM2 (deleted meanwhile).
 */
export async function settleStopped(
  context: CycleContext,
  service: ServiceEntry | undefined,
  before: ProcessInfo,
): Promise<SettleOutcome> {
  const { watcher } = context;
  let suspect = mayBeRelaunching(before);
  const wasCrashing = suspect || before.status === 'errored';
  const pids = new Set([before.pm2Pid, before.pid].filter((pid) => pid > 0));
  let info: ProcessInfo | undefined = before;
  const gone = (): SettleOutcome => ({ ok: true, info: undefined, wasCrashing, settledAt: Date.now() });
  for (let stop = 0; stop < MAX_STOPS; stop++) {
    const stopped = await stopOnce(context, before);
    if (stopped === 'gone') return gone();
    if (stopped !== 'ok') return { ok: false, info, reason: stopped };
    const confirmed = await confirmStopped(context, service, before, pids);
    if (confirmed.kind === 'gone') return gone();
    if (confirmed.kind === 'timeout') return { ok: false, info: confirmed.info, reason: confirmed.reason };
    info = confirmed.info;
    if (confirmed.kind === 'relaunched') {
      suspect = true;
      continue;
    }
    if (info.restarts > before.restarts) suspect = true;
    // Stopped, with no process left. But a process that exited while PM2 was stopping it may have
    // armed PM2's restart timer: when it becomes ready during the stop, PM2 overwrites "stopping"
    // with "online", so its exit counts as a crash (the status still ends as "stopped"). A second
    // stop on a stopped app only clears that timer.
    const again = await stopOnce(context, before);
    if (again === 'gone') return gone();
    if (again !== 'ok') return { ok: false, info, reason: again };
    if (!suspect) return { ok: true, info, wasCrashing, settledAt: Date.now() };
    // A timer that had fired before that stop has a relaunch in flight: it shows up within the window.
    await sleep(RELAUNCH_WINDOW_MS);
    info = (await watcher.list(0)).find((p) => p.pmId === before.pmId);
    if (!info) return gone();
    if (info.status === 'stopped' && info.pm2Pid === 0) {
      return { ok: true, info, wasCrashing: true, settledAt: Date.now() };
    }
    if (info.pm2Pid > 0) pids.add(info.pm2Pid);
  }
  return {
    ok: false,
    info,
    reason: `PM2 relaunched it after each of ${MAX_STOPS} stops (status ${info?.status ?? 'gone'})`,
  };
}

/** One stopProcessId: 'ok', 'gone' (not in PM2 any more), or why it failed. */
async function stopOnce(context: CycleContext, target: ProcessInfo): Promise<'ok' | 'gone' | string> {
  try {
    await stopProcess(context.connection, target.pmId);
    context.watcher.invalidate();
    return 'ok';
  } catch (error) {
    context.watcher.invalidate();
    if (!(await context.watcher.list(0)).some((p) => p.pmId === target.pmId)) return 'gone';
    return `PM2 could not stop it: ${(error as Error).message}`;
  }
}

type Confirmation =
  | { kind: 'stopped' | 'relaunched'; info: ProcessInfo }
  | { kind: 'gone' }
  | { kind: 'timeout'; info: ProcessInfo; reason: string };

/** Waits until PM2 says stopped with no pid and every pid it had is gone (or it came back). */
async function confirmStopped(
  context: CycleContext,
  service: ServiceEntry | undefined,
  target: ProcessInfo,
  pids: Set<number>,
): Promise<Confirmation> {
  // PM2's kill_timeout (then SIGKILL) bounds the stop itself; this bounds the confirmation.
  const deadline = Date.now() + 10_000;
  const port = service?.port;
  for (;;) {
    const info = (await context.watcher.list(0)).find((p) => p.pmId === target.pmId);
    if (!info) return { kind: 'gone' };
    if (info.pm2Pid > 0) pids.add(info.pm2Pid);
    if (info.pid > 0) pids.add(info.pid);
    if (info.status !== 'stopped' && info.status !== 'stopping') return { kind: 'relaunched', info };
    if (info.status === 'stopped' && info.pm2Pid === 0) {
      const holder = port === undefined ? undefined : listenerPid(port);
      if (![...pids].some(isAlive) && !(holder !== undefined && pids.has(holder))) {
        return { kind: 'stopped', info };
      }
    }
    if (Date.now() > deadline) {
      return {
        kind: 'timeout',
        info,
        reason: `PM2 did not finish stopping it within 10 s (status ${info.status}, pids ${[...pids].join(', ') || 'none'})`,
      };
    }
    await sleep(POLL_MS);
  }
}

export type BringUpOutcome =
  | {
      ok: true;
      /** The process as PM2 answered the start (with wait_ready: once ready, or once it exited). */
      launched: ProcessInfo | undefined;
      /** PM2's restart count right before the start: crashes after it are this run's. */
      restartsBefore: number;
      /** The log offsets right before the start: what the new run wrote comes after them. */
      marks: LogMarks;
      /** performance.now() and wall clock of the start. */
      startedAt: number;
      startedAtDate: Date;
      /** It had been crashing (crash loop, back-off, errored) before this start. */
      wasCrashing: boolean;
      /** A leftover of this service that held the port and was stopped, said for people. */
      replaced?: string;
      /** Launched afresh because ecosystem.config.js no longer sets a variable, said for people. */
      fresh?: string;
    }
  | {
      ok: false;
      kind: 'port-in-use' | 'not-settled' | 'launch-failed';
      reason: string;
      info: ProcessInfo | undefined;
    };

/** Errors of startProcessId that mean "something runs in the slot": settle again and retry. */
const SLOT_BUSY = /already exists|already online|already started/;

/**
 * Brings `service` up from any PM2 state: absent -> launched from the ecosystem; otherwise stopped
 * and confirmed stopped (settleStopped), its port made free, then started from "stopped" with the
 * ecosystem's current env (the env update `pm2 restart ecosystem.config.js` applies).
 * `beforeStart` runs right before the start (after every stop): the moment "since" counts from.
 */
export async function bringUp(
  context: CycleContext,
  service: ServiceEntry,
  current: ProcessInfo | undefined,
  beforeStart: (wasCrashing: boolean) => Promise<void> = async () => {},
): Promise<BringUpOutcome> {
  let info = current;
  let wasCrashing = false;
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    let replaced: string | undefined;
    if (info) {
      const settled = await settleStopped(context, service, info);
      if (!settled.ok) return { ok: false, kind: 'not-settled', reason: settled.reason, info: settled.info };
      wasCrashing ||= settled.wasCrashing;
      info = settled.info;
    }
    const port = await clearPort(service, context.root, undefined);
    if (port.blocker) return { ok: false, kind: 'port-in-use', reason: port.blocker, info };
    replaced = port.replacedNote;
    await beforeStart(wasCrashing);
    const marks = markLogs(service, info);
    const startedAt = performance.now();
    const startedAtDate = new Date();
    try {
      // A variable removed from the app's env would survive PM2's restart (it extends the stored
      // env): the app is deleted, stopped as it is, and launched afresh on the file as it is now.
      const removed = info ? removedAppEnvKeys(info, service.app) : [];
      if (info && removed.length > 0) {
        await deleteProcess(context.connection, info.pmId);
        context.watcher.invalidate();
      }
      const launched =
        info && removed.length === 0
          ? await restartProcess(context.connection, info.pmId, restartEnv(service.app))
          : (await launchApp(context.connection, service.app, context.root))[0];
      context.watcher.invalidate();
      return {
        ok: true,
        launched,
        // A fresh launch counts its restarts from zero.
        restartsBefore: removed.length > 0 ? 0 : (info?.restarts ?? 0),
        marks,
        startedAt,
        startedAtDate,
        wasCrashing,
        ...(replaced ? { replaced } : {}),
        ...(removed.length > 0
          ? {
              fresh: `launched afresh: ecosystem.config.js no longer sets ${removed.join(', ')} (a PM2 restart keeps a removed variable)`,
            }
          : {}),
      };
    } catch (error) {
      context.watcher.invalidate();
      lastError = (error as Error).message;
      if (!SLOT_BUSY.test(lastError)) break;
      info = await context.watcher.find(service.name, 0);
    }
  }
  return { ok: false, kind: 'launch-failed', reason: `PM2 could not start it: ${lastError}`, info };
}

export type TakeDownOutcome = { ok: true; replaced?: number } | { ok: false; reason: string };

/**
 * Stops (or deletes) one app from any PM2 state, and confirms it: no relaunch comes back, no
 * process of it is left, and no process of this service that PM2 lost holds its port.
 */
export async function takeDown(
  context: CycleContext,
  service: ServiceEntry | undefined,
  info: ProcessInfo,
  verb: 'stop' | 'delete',
): Promise<TakeDownOutcome> {
  const settled = await settleStopped(context, service, info);
  if (!settled.ok) return { ok: false, reason: settled.reason };
  if (verb === 'delete' && settled.info) {
    try {
      await deleteProcess(context.connection, settled.info.pmId);
    } catch (error) {
      return { ok: false, reason: `PM2 could not delete it: ${(error as Error).message}` };
    }
    context.watcher.invalidate();
  }
  if (service?.port === undefined) return { ok: true };
  const holder = portHolder(service.port, context.root);
  if (holder?.pid !== undefined && isLostProcessOf(holder, service)) {
    if (await stopLeftover(holder.pid, service.port)) return { ok: true, replaced: holder.pid };
    return { ok: false, reason: `pid ${holder.pid} of ${service.name} still holds port ${service.port}` };
  }
  return { ok: true };
}
