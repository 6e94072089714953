// A lock file that devctl commands take before they change shared state -- the PM2 daemon of a
// PM2_HOME, the processes of one stack -- so that two callers at the same moment (two terminals,
// two agents, two worktrees) act one after the other instead of both at once.
//
// The file names its holder (pid, the process's start time, boot id, host, command, since) so a
// waiter can say in one line whom it waits for, and so a lock whose holder died is taken over at
// once: stale means the holder process is gone -- kill(pid, 0) fails, it is a zombie, or the pid now
// belongs to a process that started later (pid reuse, seen in /proc/<pid>/stat's start time, or a
// reboot, seen in the boot id) -- never "old". A live holder is waited for up to a bound, then the
// waiter fails naming the holder, so nothing waits silently or forever.
//
// Why not proper-lockfile (the well-kept choice on npm): it judges staleness by age alone -- the
// holder must refresh the lock's mtime every few seconds, a busy event loop or a stopped (SIGSTOP)
// holder loses its lock while alive, and a crashed holder blocks everyone for the whole stale
// period -- and it records no holder, so a waiter could not say who it waits for. flock(2), which
// the kernel releases with its holder, needs a native addon (fs-ext: node-gyp), which this
// repository does not build.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export interface LockHolder {
  pid: number;
  /** /proc/<pid>/stat's start time (clock ticks since boot): tells the holder from a later process on its pid. */
  startTicks?: number;
  bootId?: string;
  host: string;
  /** The holder's command line, for people ("devctl start --wait"). */
  command: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** Unique per acquisition: a release never removes a lock another process took over. */
  token: string;
}

export interface LockOptions {
  /** The lock file. Its folder is created when missing. */
  path: string;
  /** What the lock guards, for people: `the PM2 daemon launch of PM2_HOME=/x`. */
  what: string;
  /** How long to wait for a live holder before giving up (LockTimeoutError). */
  timeoutMs: number;
  /** Told once per holder waited for, with the one line that says so. */
  onWait?: (message: string, holder: LockHolder) => void;
  /** Told when a lock of a dead holder is taken over. */
  onTakeOver?: (message: string, holder: LockHolder) => void;
  /** Recorded as the holder's command (default: this process's devctl command line). */
  command?: string;
  pollMs?: number;
}

export interface HeldLock {
  path: string;
  holder: LockHolder;
  /** How long this acquisition waited for other holders (0 when the lock was free). */
  waitedMs: number;
  /** The live holders it waited for, in order. */
  waitedFor: LockHolder[];
  /** The dead holders whose lock it took over. */
  tookOverFrom: LockHolder[];
  release(): void;
}

/** The bound passed: a live process still holds the lock. */
export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
  constructor(
    readonly what: string,
    readonly path: string,
    readonly holder: LockHolder,
    readonly waitedMs: number,
  ) {
    super(
      `${what} is still held by ${describeHolder(holder)} after ${formatSeconds(waitedMs)} of waiting (lock file ${path})`,
    );
  }
}

const formatSeconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** "pid 123 (devctl start --wait, since 10:18:54)". */
export function describeHolder(holder: LockHolder): string {
  const since = new Date(holder.since);
  const time = Number.isNaN(since.getTime()) ? holder.since : since.toTimeString().slice(0, 8);
  const host = holder.host === hostname() ? '' : ` on host ${holder.host}`;
  return `pid ${holder.pid}${host} (${holder.command}, since ${time})`;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": comm may hold spaces and parentheses, so cut at the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of stat(5), starttime; undefined without /proc (then only kill(0) judges). */
export function processStartTicks(pid: number): number | undefined {
  const value = Number(statFields(pid)?.[19]);
  return Number.isFinite(value) ? value : undefined;
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * 'alive', 'gone', or 'unknown' (another host: its processes cannot be seen from here, so it is
 * waited for like a live one).
 */
export function holderState(holder: LockHolder): 'alive' | 'gone' | 'unknown' {
  if (holder.host !== hostname()) return 'unknown';
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return 'gone';
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return 'gone';
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  const fields = statFields(holder.pid);
  if (!fields) return 'alive'; // no /proc: kill(0) is all there is
  // A zombie runs no code and will never release anything.
  if (fields[0] === 'Z' || fields[0] === 'X') return 'gone';
  const ticks = Number(fields[19]);
  if (holder.startTicks !== undefined && Number.isFinite(ticks) && ticks !== holder.startTicks) return 'gone';
  return 'alive';
}

function thisCommand(): string {
  const args = process.argv.slice(2);
  return ['devctl', ...args].join(' ');
}

function newHolder(command: string): LockHolder {
  return {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    bootId: bootId(),
    host: hostname(),
    command,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
}

type Reading =
  | { kind: 'free' }
  | { kind: 'held'; holder: LockHolder; raw: string }
  | { kind: 'unreadable'; raw: string };

function readLock(path: string): Reading {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'free' };
    throw error;
  }
  try {
    const holder = JSON.parse(raw) as LockHolder;
    if (typeof holder.pid === 'number' && typeof holder.token === 'string')
      return { kind: 'held', holder, raw };
  } catch {
    // fall through
  }
  return { kind: 'unreadable', raw };
}

/**
 * Creates `path` holding `content` only if it does not exist, with its content complete the
 * moment it appears: written to a private file, then hard-linked (link fails with EEXIST
 * atomically). Where hard links are not supported, an exclusive create (O_EXCL) then a write.
 */
function createExclusive(path: string, content: string): boolean {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, content);
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
  }
  try {
    writeFileSync(path, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** An unreadable lock this old was left by a process that died between creating and writing it. */
const UNREADABLE_STALE_MS = 5000;

/**
 * Removes the lock file if it still holds exactly `raw` (the dead holder's lock). Two waiters may
 * find the same dead holder at once: without a guard, the second could delete the lock the first
 * has just taken. The guard is itself an exclusive file, held for a few microseconds; one left by a
 * process that died inside that window is removed once its own holder is gone. Returns 'removed'
 * when this process removed it, the guard's live holder when another process is taking over right
 * now (the caller then waits a poll), else undefined (retry at once).
 */
function removeIfUnchanged(path: string, raw: string): 'removed' | LockHolder | undefined {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, JSON.stringify(newHolder('devctl (taking over a lock)')))) {
    const reading = readLock(guard);
    if (reading.kind !== 'held') return undefined; // released meanwhile: retry at once
    if (holderState(reading.holder) !== 'gone') return reading.holder;
    try {
      unlinkSync(guard);
    } catch {
      // another waiter removed it
    }
    return undefined;
  }
  try {
    const current = readLock(path);
    if (current.kind === 'free' || current.raw !== raw) return undefined;
    unlinkSync(path);
    return 'removed';
  } finally {
    unlinkSync(guard);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the lock: at once when it is free or its holder is gone; otherwise waits (saying so once
 * per holder) up to `timeoutMs`, then throws LockTimeoutError naming the holder.
 */
export async function acquireLock(options: LockOptions): Promise<HeldLock> {
  const { path, what } = options;
  mkdirSync(dirname(path), { recursive: true });
  const started = Date.now();
  const waitedFor: LockHolder[] = [];
  const tookOverFrom: LockHolder[] = [];
  const holder = newHolder(options.command ?? thisCommand());
  const content = `${JSON.stringify(holder)}\n`;
  const pollMs = options.pollMs ?? 100;
  /** One poll, within the bound: even a wait on a lock being written or taken over ends. */
  const pause = async (busyHolder: LockHolder | undefined) => {
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      const shown = busyHolder ?? { ...holder, pid: 0, command: 'a process that is writing it' };
      throw new LockTimeoutError(what, path, shown, waited);
    }
    await sleep(Math.min(pollMs, Math.max(1, options.timeoutMs - waited)));
  };
  for (;;) {
    if (createExclusive(path, content))
      return held(path, holder, Date.now() - started, waitedFor, tookOverFrom);
    const reading = readLock(path);
    if (reading.kind === 'free') continue; // released between our create and our read
    if (reading.kind === 'unreadable') {
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue;
      }
      if (age <= UNREADABLE_STALE_MS) {
        await pause(undefined);
        continue;
      }
      const removal = removeIfUnchanged(path, reading.raw);
      if (removal !== undefined && removal !== 'removed') await pause(removal);
      continue;
    }
    const other = reading.holder;
    if (other.pid === process.pid && other.token !== holder.token && other.host === holder.host) {
      // This process already holds it: waiting would only run into the bound.
      throw new Error(`${what}: this process (pid ${process.pid}) already holds ${path}`);
    }
    if (holderState(other) === 'gone') {
      const removal = removeIfUnchanged(path, reading.raw);
      if (removal !== undefined && removal !== 'removed') await pause(removal);
      // Said only by the one waiter that removed it; the others find the new holder next.
      if (removal === 'removed') {
        tookOverFrom.push(other);
        options.onTakeOver?.(
          `took over ${what} from ${describeHolder(other)}, which is no longer running`,
          other,
        );
      }
      continue;
    }
    const waited = Date.now() - started;
    if (!waitedFor.some((h) => h.token === other.token)) {
      waitedFor.push(other);
      options.onWait?.(
        `waiting for ${what}: held by ${describeHolder(other)}; waiting up to ${formatSeconds(Math.max(0, options.timeoutMs - waited))}`,
        other,
      );
    }
    if (waited >= options.timeoutMs) throw new LockTimeoutError(what, path, other, waited);
    await sleep(Math.min(pollMs, Math.max(1, options.timeoutMs - waited)));
  }
}

function held(
  path: string,
  holder: LockHolder,
  waitedMs: number,
  waitedFor: LockHolder[],
  tookOverFrom: LockHolder[],
): HeldLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readLock(path);
    // Never remove a lock that is no longer ours (taken over after this process was thought dead).
    if (current.kind === 'held' && current.holder.token === holder.token) {
      try {
        unlinkSync(path);
      } catch {
        // already removed
      }
    }
  };
  // devctl's entry ends with process.exit(): release on the way out, whatever the path.
  process.on('exit', release);
  return { path, holder, waitedMs, waitedFor, tookOverFrom, release };
}

/** Runs `fn` holding the lock; releases it on every exit path. */
export async function withLock<T>(options: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
