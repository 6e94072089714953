// Facts about local processes read from /proc (Linux). Every function degrades to "unknown" rather
// than throwing: a process can exit between two reads.
import { readFileSync, readlinkSync } from 'node:fs';

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
