// Who holds a TCP port: the listening socket's inode from /proc/net/tcp{,6}, then the process whose
// file descriptors include that socket. Linux only; elsewhere every port reads as "no holder known".
import { readdirSync, readlinkSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { readRegistry } from '@repo/stack-contract';
import { ancestors, commandLine, listeningSockets, workingDirectory } from './processes';

/** Inodes of the sockets listening on `port` (IPv4 and IPv6, any address). */
export function listeningInodes(port: number): string[] {
  return listeningSockets().get(port) ?? [];
}

/** True when something listens on `port` (on any local address). */
export function isPortListening(port: number): boolean {
  return listeningInodes(port).length > 0;
}

/** The pid owning one of the socket inodes, by scanning /proc/<pid>/fd (only our own user's are readable). */
export function pidOfSocket(inodes: string[]): number | undefined {
  if (inodes.length === 0) return undefined;
  const targets = new Set(inodes.map((inode) => `socket:[${inode}]`));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (targets.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // the descriptor closed while we looked
      }
    }
  }
  return undefined;
}

export interface PortHolder {
  port: number;
  /** Undefined when the socket belongs to a process we cannot inspect (another user's). */
  pid: number | undefined;
  command: string | undefined;
  cwd: string | undefined;
  /**
   * True when the holder belongs to this project (its cwd or command line is under the repository
   * root) but no PM2 daemon supervises it: a leftover from an earlier run, safe to kill.
   */
  orphan: boolean;
  /** True when a PM2 daemon is among its ancestors. */
  underPm2: boolean;
}

export function isUnder(path: string | undefined, root: string): boolean {
  if (!path) return false;
  const base = root.endsWith(sep) ? root : root + sep;
  return path === root || path.startsWith(base) || path.includes(` ${base}`) || path.includes(`=${base}`);
}

/** The process listening on `port`, or undefined when the port is free. */
export function portHolder(port: number, projectRoot: string): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.length === 0) return undefined;
  const pid = pidOfSocket(inodes);
  if (pid === undefined)
    return { port, pid: undefined, command: undefined, cwd: undefined, orphan: false, underPm2: false };
  const command = commandLine(pid);
  const cwd = workingDirectory(pid);
  const underPm2 = ancestors(pid).some((ancestor) =>
    /^PM2 v[\d.]+: God Daemon/.test(commandLine(ancestor) ?? ''),
  );
  const ofProject = isUnder(cwd, projectRoot) || isUnder(command, projectRoot);
  return { port, pid, command, cwd, orphan: ofProject && !underPm2, underPm2 };
}

/**
 * True when `holder` is a service run without PM2 from its own folder and script (`cwd`, `script`
 * as the ecosystem gives them): what is left when a daemon is killed (its apps live on as orphans),
 * or a run outside PM2.
 */
export function isOwnLeftover(holder: PortHolder, cwd: string, script: string): boolean {
  if (holder.pid === undefined || holder.underPm2 || holder.cwd !== cwd || !holder.command) return false;
  const words = holder.command.split(' ');
  return words.includes(resolve(cwd, script)) || words.includes(script);
}

/** One line naming the holder, for messages: `pid 123 (node dist/index.js), an orphan of this project`. */
export function describeHolder(holder: PortHolder): string {
  if (holder.pid === undefined)
    return `port ${holder.port} is held by a process devctl cannot inspect (another user's)`;
  const command = holder.command
    ? ` (${holder.command.length > 120 ? `${holder.command.slice(0, 117)}...` : holder.command})`
    : '';
  const kind = holder.orphan
    ? ', an orphan of this project (no PM2 daemon supervises it)'
    : holder.underPm2
      ? ', run by a PM2 daemon'
      : ', not part of this project';
  return `port ${holder.port} is held by pid ${holder.pid}${command}${kind}${ownerStack(holder.cwd)}`;
}

/** `, of the stack <namespace> (<checkout>)` when the folder is inside another registered checkout. */
function ownerStack(cwd: string | undefined): string {
  if (!cwd) return '';
  const owner = readRegistry()
    .filter((entry) => isUnder(cwd, entry.root))
    .sort((a, b) => b.root.length - a.root.length)[0];
  return owner ? `, of the stack ${owner.namespace} (${owner.root}; see: devctl stacks)` : '';
}
