// A service that PM2 runs as several instances (`instances: N` with `exec_mode: 'cluster'` in the
// ecosystem): every instance is a process of its own under one name, and the port is held by the
// PM2 daemon, which hands each connection to one instance (Node's cluster module).
import { readFileSync } from 'node:fs';
import type { ServiceEntry } from '../ecosystem/index';
import { restartEnv, restartProcess } from '../pm2/index';
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
 * Restarts a service that runs as several cluster instances one instance at a time: PM2 answers
 * each restart once that instance is ready again (wait_ready), and only then is the next one
 * stopped, so the others keep serving the port throughout. Stopping them all first, as a single
 * process is, would leave the port held by the PM2 daemon with no instance behind it.
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
      const restarted = await restartProcess(context.connection, instance.pmId, restartEnv(service.app));
      launched ??= restarted;
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
