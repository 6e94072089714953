// Facts about local processes read from /proc (Linux). Every function degrades to "unknown" rather
// than throwing: a process can exit between two reads.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The direct children of `pid` (every thread's list), or [] when unknown. */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .split(' ')
      .filter(Boolean)
      .map(Number)
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

/** `pid` and all its descendants, parents first. */
export function processTree(pid: number): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    if (seen.includes(next)) continue;
    seen.push(next);
    queue.push(...childPids(next));
  }
  return seen;
}

/**
 * The process that really serves: follows single-child chains down from `pid`, so for a wrapper
 * (`npm start` -> sh -> node) it is the innermost node, and for a directly run server it is `pid`.
 */
export function serverPid(pid: number): number {
  let current = pid;
  for (let depth = 0; depth < 8; depth++) {
    const children = childPids(current);
    if (children.length !== 1) break;
    current = children[0] as number;
  }
  return current;
}

const PAGE_SIZE = 4096;

/** Resident memory of one process in bytes (0 when unknown). */
export function residentBytes(pid: number): number {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * PAGE_SIZE;
  } catch {
    return 0;
  }
}

/** The command line of `pid` as one string, or undefined when it is gone or unreadable. */
export function commandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const line = raw.split('\0').filter(Boolean).join(' ');
    return line || undefined;
  } catch {
    return undefined;
  }
}

export function workingDirectory(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The parent pid, or undefined. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The chain of ancestors of `pid`, nearest first (stops at pid 1). */
export function ancestors(pid: number): number[] {
  const chain: number[] = [];
  let current: number | undefined = parentPid(pid);
  while (current !== undefined && current > 1 && chain.length < 64) {
    chain.push(current);
    current = parentPid(current);
  }
  return chain;
}

/** The executable of `pid` (the target of /proc/<pid>/exe), or undefined when unreadable. */
export function executable(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

export interface CpuTimes {
  /** User + system time of the whole process (every thread), in clock ticks. */
  process: number;
  /** The same for its main thread alone: in Node, the thread that runs JavaScript. */
  mainThread: number;
  /** The main thread's state letter: R running or runnable, S sleeping, D disk wait, Z zombie. */
  state: string;
}

/**
 * /proc/<pid>/stat's clock ticks per second (USER_HZ): 100 on every Linux architecture Node runs
 * on; the kernel converts to it whatever its own tick rate.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

function statFields(file: string): string[] | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // After "pid (comm) ": comm may hold spaces and parentheses, so cut at the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU time used so far by `pid` and by its main thread, or undefined when it is gone. */
export function cpuTimes(pid: number): CpuTimes | undefined {
  const whole = statFields(`/proc/${pid}/stat`);
  const main = statFields(`/proc/${pid}/task/${pid}/stat`);
  if (!whole || !main) return undefined;
  // Fields 14 and 15 of stat(5), utime and stime: indexes 11 and 12 once pid and comm are cut.
  const ticks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);
  return { process: ticks(whole), mainThread: ticks(main), state: main[0] ?? '?' };
}

/** Socket inodes open in `pid` (only that process, not its children). */
export function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Listening TCP sockets (IPv4 and IPv6) by local port: their inodes. */
export function listeningSockets(): Map<number, string[]> {
  const byPort = new Map<number, string[]>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st ... inode (10th field); st 0A is LISTEN
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== '0A' || !fields[9] || fields[9] === '0') continue;
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      byPort.set(port, [...(byPort.get(port) ?? []), fields[9]]);
    }
  }
  return byPort;
}

/** The TCP ports `pid` itself listens on. */
export function listeningPorts(pid: number): number[] {
  const own = socketInodesOf(pid);
  const ports: number[] = [];
  for (const [port, inodes] of listeningSockets())
    if (inodes.some((inode) => own.has(inode))) ports.push(port);
  return ports;
}

/** Available memory of the machine (MemAvailable), in bytes, or undefined when unknown. */
export function availableMemory(): number | undefined {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
