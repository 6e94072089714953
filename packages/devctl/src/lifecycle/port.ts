// A service's port before a launch and after a stop: free, held by the app's own PM2 process, held
// by a leftover of this same service (stopped here), or held by something else (a blocker, named).
import type { ServiceEntry } from '../ecosystem/index';
import type { ProcessInfo } from '../pm2/types';
import {
  describeHolder,
  isOwnLeftover,
  listeningInodes,
  type PortHolder,
  pidOfSocket,
  portHolder,
} from '../ports/holders';
import { servesPort } from './instances';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid listening on `port`, if any (undefined also when it is another user's). */
export function listenerPid(port: number): number | undefined {
  const inodes = listeningInodes(port);
  return inodes.length > 0 ? pidOfSocket(inodes) : undefined;
}

async function waitUntilGone(pid: number, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || listenerPid(port) !== pid) return true;
    await sleep(50);
  }
  return false;
}

/** True when the port's holder is `own`'s PM2 process (or a child of it). */
export function heldByOwnProcess(holder: PortHolder, own: ProcessInfo | undefined): boolean {
  return holder.pid !== undefined && own !== undefined && servesPort(own, holder.pid);
}

/** Stops a leftover of this service (SIGTERM, SIGKILL after 5 s); true once it let go of the port. */
export async function stopLeftover(pid: number, port: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  if (await waitUntilGone(pid, port, 5000)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return waitUntilGone(pid, port, 2000);
}

/**
 * True for a process of this very service (its folder and script) that is not the app's current
 * PM2 process: a leftover run without PM2 (isOwnLeftover), or a child PM2 lost track of. PM2 7.0.4
 * loses one when a stop or delete lands while its delayed relaunch is opening the log files: the
 * relaunch then spawns after the stop and overwrites the app's slot (lib/God.js executeApp).
 */
export function isLostProcessOf(holder: PortHolder, service: ServiceEntry): boolean {
  if (isOwnLeftover(holder, service.cwd, service.script)) return true;
  return holder.underPm2 && isOwnLeftover({ ...holder, underPm2: false }, service.cwd, service.script);
}

/**
 * Makes `service`'s port usable: nothing to do when it is free or held by the app's own PM2
 * process; a leftover of this same service (see isOwnLeftover: a process of its folder and script
 * that no PM2 supervises) is stopped and reported as `replaced`; any other holder is a `blocker`,
 * described with its pid, command line and whether it is an orphan of this project.
 */
export async function clearPort(
  service: ServiceEntry,
  root: string,
  own: ProcessInfo | undefined,
): Promise<{ blocker?: string; replaced?: number; replacedNote?: string }> {
  if (service.port === undefined) return {};
  const holder = portHolder(service.port, root);
  if (!holder) return {};
  if (heldByOwnProcess(holder, own)) return {};
  if (holder.pid !== undefined && isLostProcessOf(holder, service)) {
    if (await stopLeftover(holder.pid, service.port)) {
      const what = holder.underPm2 ? 'that PM2 had lost' : 'run without PM2';
      return {
        replaced: holder.pid,
        replacedNote: `replaced a leftover ${service.name} ${what} (pid ${holder.pid})`,
      };
    }
  }
  const advice =
    (holder.orphan || isLostProcessOf(holder, service)) && holder.pid
      ? `; stop it with: kill ${holder.pid}`
      : '';
  return { blocker: `${describeHolder(holder)}${advice}` };
}
