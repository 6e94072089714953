// A service that PM2 runs as several instances (`instances: N` with `exec_mode: 'cluster'` in the
// ecosystem): every instance is a process of its own under one name, and the port is held by the
// PM2 daemon, which hands each connection to one instance (Node's cluster module).
import { readFileSync } from 'node:fs';
import type { ServiceEntry } from '../ecosystem/index';
import { reloadProcess, restartEnv, restartProcess } from '../pm2/index';
import type { ProcessInfo } from '../pm2/types';
import { processTree } from '../ports/processes';
import { markLogs } from './outcome';
import type { BringUpOutcome, CycleContext } from './pm2-cycle';

/** The parent pid of `pid` (from /proc), or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: read after its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `holder` (the pid listening on the service's port) is `info`'s process: the process
 * itself or a child of it, or -- in cluster mode -- the PM2 daemon that forked it and listens for it.
 */
export function servesPort(info: ProcessInfo, holder: number): boolean {
  if (info.pm2Pid <= 0) return false;
  if (processTree(info.pm2Pid).includes(holder)) return true;
  return info.clustered === true && parentPid(info.pm2Pid) === holder;
}

/** Every instance of `name`, by instance number. */
export function instancesOf(processes: ProcessInfo[], name: string): ProcessInfo[] {
  return processes
    .filter((p) => p.name === name)
    .sort((a, b) => (a.instance ?? 0) - (b.instance ?? 0) || a.pmId - b.pmId);
}

/**
 * Restarts a service that runs as several cluster instances one instance at a time: an online
 * instance is reloaded (PM2 starts its replacement, waits for 'ready', then stops the old one), a
 * stopped one is started, and only then comes the next, so the port is served throughout. Stopping
 * them all first, as a single process is, would leave the port with no instance behind it.
 */
export async function rollingRestart(
  context: CycleContext,
  service: ServiceEntry,
  instances: ProcessInfo[],
): Promise<BringUpOutcome> {
  const first = instances[0] as ProcessInfo;
  const marks = markLogs(service, first);
  const startedAt = performance.now();
  const startedAtDate = new Date();
  let launched: ProcessInfo | undefined;
  for (const instance of instances) {
    try {
      if (instance.status === 'online') {
        await reloadProcess(context.connection, instance.pmId, restartEnv(service.app));
      } else {
        launched ??= await restartProcess(context.connection, instance.pmId, restartEnv(service.app));
      }
      // The next instance only once this one runs again: PM2 may answer before it is online, and
      // acts on no second start of the same app while the first is under way.
      // A stopped instance PM2 has not finished releasing ignores that start: start it once more.
      if (!(await untilOnline(context, instance.pmId, instance.pm2Pid)) && instance.status !== 'online') {
        await restartProcess(context.connection, instance.pmId, restartEnv(service.app));
        await untilOnline(context, instance.pmId, instance.pm2Pid);
      }
    } catch (error) {
      context.watcher.invalidate();
      return {
        ok: false,
        kind: 'launch-failed',
        reason: `PM2 could not restart instance ${instance.instance ?? 0} (pm_id ${instance.pmId}): ${(error as Error).message}`,
        info: instance,
      };
    } finally {
      context.watcher.invalidate();
    }
  }
  return {
    ok: true,
    launched,
    restartsBefore: first.restarts,
    marks,
    startedAt,
    startedAtDate,
    wasCrashing: instances.some((i) => i.status !== 'online'),
  };
}

/** Waits (bounded) until the instance `pmId` is online in a process other than `oldPid`. */
async function untilOnline(context: CycleContext, pmId: number, oldPid: number): Promise<boolean> {
  const deadline = Date.now() + INSTANCE_START_MS;
  while (Date.now() < deadline) {
    context.watcher.invalidate();
    const now = (await context.watcher.list(0)).find((p) => p.pmId === pmId);
    if (now && now.status === 'online' && now.pm2Pid > 0 && now.pm2Pid !== oldPid) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** How long one instance may take to be online again before the next is started anyway. */
const INSTANCE_START_MS = 10_000;
