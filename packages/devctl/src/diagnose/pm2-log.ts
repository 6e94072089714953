// What the PM2 daemon itself wrote about each app ($PM2_HOME/pm2.log): starts, exits with their
// codes, the stops a user asked for, "too many unstable restarts", max_memory_restart reloads.
// PM2's process list only keeps counters; this log tells a crash from a restart the user asked for.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readLinesBackward } from '../logs/reverse-lines';

export type Pm2EventKind =
  | 'starting'
  | 'online'
  | 'exited'
  | 'stopping'
  | 'will-restart'
  | 'gave-up'
  | 'memory-restart';

export interface Pm2Event {
  time: number;
  kind: Pm2EventKind;
  name: string;
  pmId: number;
  /** The line without PM2's prefix. */
  text: string;
  exitCode?: number;
  signal?: string;
  memory?: number;
  limit?: number;
  /** For `exited`: no stop was asked for since the app last started (a crash). */
  crash?: boolean;
  /** For `starting`: PM2 restarted it on its own (after a crash or a memory reload). */
  automatic?: boolean;
}

/** pm2.log lines read from the end: enough for minutes of a crash-looping stack. */
const MAX_LINES = 4000;

const PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}): (?:PM2 (?:log|error): )?/;
const STARTING = /^App \[(.+):(\d+)\] starting in -(?:fork|cluster) mode-/;
const ONLINE = /^App \[(.+):(\d+)\] online$/;
const EXITED = /^App \[(.+):(\d+)\] exited with code \[(\w+)\] via signal \[(\w+)\]/;
const WILL_RESTART = /^App \[(.+):(\d+)\] will restart in (\d+)ms/;
const STOPPING = /^Stopping app:(.+) id:(\d+)$/;
const GAVE_UP = /^Script (.+) had too many unstable restarts \((\d+)\)\. Stopped\./;
const MEMORY =
  /^\[PM2\]\[WORKER\] Process (\d+) restarted because it exceeds --max-memory-restart value \(current_memory=(\d+) max_memory_limit=(\d+)/;
const DAEMON_STARTED = /--- New PM2 Daemon started ---/;

/** The daemon's log lines since its last start, oldest first. */
function readDaemonLog(home: string): { time: number; text: string }[] {
  const file = join(home, 'pm2.log');
  if (!existsSync(file)) return [];
  const newestFirst: { time: number; text: string }[] = [];
  try {
    for (const raw of readLinesBackward(file)) {
      const prefix = PREFIX.exec(raw);
      if (!prefix) continue;
      const text = raw.slice(prefix[0].length);
      if (DAEMON_STARTED.test(text)) break;
      newestFirst.push({ time: new Date(prefix[1] as string).getTime(), text });
      if (newestFirst.length >= MAX_LINES) break;
    }
  } catch {
    return [];
  }
  return newestFirst.reverse();
}

/**
 * PM2's events per `name:pm_id`, oldest first, each exit marked crash or asked-for. `stopExitCodes`
 * gives an app's `stop_exit_codes` (exits PM2 does not restart after).
 */
export function readPm2Events(
  home: string,
  stopExitCodes: (name: string) => number[] = () => [],
): Map<string, Pm2Event[]> {
  const events = new Map<string, Pm2Event[]>();
  const names = new Map<number, string>();
  const add = (event: Pm2Event) => {
    const key = `${event.name}:${event.pmId}`;
    names.set(event.pmId, event.name);
    const list = events.get(key) ?? [];
    list.push(event);
    events.set(key, list);
  };
  let lastExit: Pm2Event | undefined;
  const appEvent = (pattern: RegExp, kind: Pm2EventKind) => (time: number, text: string) => {
    const match = pattern.exec(text);
    if (!match) return false;
    add({ time, kind, name: match[1] as string, pmId: Number(match[2]), text });
    return true;
  };
  const parsers: ((time: number, text: string) => boolean)[] = [
    appEvent(STARTING, 'starting'),
    appEvent(ONLINE, 'online'),
    appEvent(WILL_RESTART, 'will-restart'),
    appEvent(STOPPING, 'stopping'),
    (time, text) => {
      const match = EXITED.exec(text);
      if (!match) return false;
      const code = Number(match[3]);
      lastExit = {
        time,
        kind: 'exited',
        name: match[1] as string,
        pmId: Number(match[2]),
        text,
        exitCode: Number.isInteger(code) ? code : undefined,
        signal: match[4],
      };
      add(lastExit);
      return true;
    },
    (time, text) => {
      if (!GAVE_UP.test(text)) return false;
      // Written in the same tick as the exit that caused it: it belongs to that app.
      if (lastExit) add({ time, kind: 'gave-up', name: lastExit.name, pmId: lastExit.pmId, text });
      return true;
    },
    (time, text) => {
      const match = MEMORY.exec(text);
      if (!match) return false;
      const pmId = Number(match[1]);
      const name = names.get(pmId);
      if (name !== undefined) {
        add({
          time,
          kind: 'memory-restart',
          name,
          pmId,
          text,
          memory: Number(match[2]),
          limit: Number(match[3]),
        });
      }
      return true;
    },
  ];
  for (const { time, text } of readDaemonLog(home)) {
    parsers.some((parse) => parse(time, text));
  }
  for (const list of events.values()) markCrashes(list, stopExitCodes(list[0]?.name ?? ''));
  return events;
}

/** Slack between PM2's announced restart delay and the start it logs. */
const RESTART_SLACK_MS = 2000;

/**
 * An exit is a crash unless a stop was asked for since the app last started. A start is automatic
 * (PM2's doing) when it follows a memory reload, or a crash PM2 restarts after (not one it gave up
 * on, nor a stop exit code) within the announced delay; any other start is one the user asked for.
 */
function markCrashes(list: Pm2Event[], stopCodes: number[]): void {
  let stopAsked = false;
  let memoryReload = false;
  let pendingRestartAt: number | undefined;
  for (const event of list) {
    if (event.kind === 'memory-restart') memoryReload = true;
    else if (event.kind === 'stopping') stopAsked = !memoryReload;
    else if (event.kind === 'exited') {
      event.crash = !stopAsked && !memoryReload;
      const restarts = event.crash && !(event.exitCode !== undefined && stopCodes.includes(event.exitCode));
      pendingRestartAt = restarts ? event.time : undefined;
    } else if (event.kind === 'will-restart' && pendingRestartAt !== undefined) {
      pendingRestartAt = event.time + Number(/in (\d+)ms/.exec(event.text)?.[1] ?? 0);
    } else if (event.kind === 'gave-up') pendingRestartAt = undefined;
    else if (event.kind === 'starting') {
      const afterCrash = pendingRestartAt !== undefined && event.time - pendingRestartAt <= RESTART_SLACK_MS;
      event.automatic = memoryReload || afterCrash;
      stopAsked = false;
      memoryReload = false;
      pendingRestartAt = undefined;
    }
  }
}

/** When the user last (re)started the app, per PM2's log; undefined when the log does not say. */
export function lastRequestedStart(events: Pm2Event[]): number | undefined {
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index] as Pm2Event;
    if (event.kind === 'starting' && !event.automatic) return event.time;
  }
  return undefined;
}
