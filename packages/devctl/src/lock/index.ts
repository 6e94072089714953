// Where devctl's locks live and how long a caller waits for one. Both locks live in the PM2 home,
// beside the daemon they protect: one for launching the daemon, one per PM2 namespace (a stack)
// for the lifecycle commands -- two checkouts with the same namespace in one daemon act on the
// same processes, so they share the lock; another PM2 home is another daemon and another lock.
import { join } from 'node:path';
import { CLIError } from '../errors';

export {
  acquireLock,
  describeHolder,
  type HeldLock,
  type LockHolder,
  type LockOptions,
  LockTimeoutError,
  withLock,
} from './file-lock';

/** The variable that bounds every wait for a lock, in seconds. */
export const LOCK_TIMEOUT_VARIABLE = 'DEVCTL_LOCK_TIMEOUT';

/**
 * Long enough for another command to build and start a whole stack (a cold build plus the health
 * waits of a few dependency waves), short enough that a stuck holder is named within minutes.
 */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 300;

/** The bound of a lock wait: $DEVCTL_LOCK_TIMEOUT seconds, else the default. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_TIMEOUT_VARIABLE];
  if (raw === undefined || raw.trim() === '') return DEFAULT_LOCK_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new CLIError(
      `${LOCK_TIMEOUT_VARIABLE} must be a number of seconds (0 or more), not "${raw}"; unset it for the default of ${DEFAULT_LOCK_TIMEOUT_SECONDS} s`,
      2,
    );
  }
  return seconds * 1000;
}

export function locksDir(home: string): string {
  return join(home, 'devctl-locks');
}

export function daemonLockPath(home: string): string {
  return join(locksDir(home), 'daemon.lock');
}

/** A namespace may hold any character PM2 accepts: keep the file name to safe ones. */
export function stackLockPath(home: string, namespace: string): string {
  const safe = namespace.replace(
    /[^A-Za-z0-9._-]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return join(locksDir(home), `stack-${safe}.lock`);
}
