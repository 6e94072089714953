// Launching the PM2 daemon of a PM2_HOME, once, whoever asks at the same moment.
//
// Why a lock: PM2's client (lib/Client.js start) pings rpc.sock and, when nothing answers, spawns
// lib/Daemon.js and waits -- with no bound -- for the new daemon's IPC "ready". Two callers that ping
// at the same moment both spawn a daemon. The first binds rpc.sock and pub.sock; the second writes
// its pid into pm2.pid (over the first's), then its bind meets a live socket (EADDRINUSE), which
// pm2-axon reports only to a bind callback Daemon.js does not pass: it never says ready, binds
// nothing and lives on. Its launcher waits forever (the start that hangs with no output), pm2.pid
// names the daemon that serves nothing, and `pm2 kill` (an RPC to the serving one) leaves it
// running. So the launch is serialized by a lock in the PM2 home; the second caller, once it has
// the lock, finds the first's daemon answering and joins it. The launch itself is bounded too:
// PM2's own CLI does not take devctl's lock and can still race it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CLIError } from '../errors';
import {
  daemonLockPath,
  LOCK_TIMEOUT_VARIABLE,
  LockTimeoutError,
  lockTimeoutMs,
  withLock,
} from '../lock/index';
import { pidOfSocket } from '../ports/holders';
import { childPids, commandLine, parentPid } from '../ports/processes';
import { connectDaemon, type DaemonConnection, pm2Home, rpcSocketPath } from './rpc';

/** A daemon comes up in ~0.3 s; this bounds a launch that never says ready. */
const LAUNCH_TIMEOUT_MS = 20_000;

export interface DaemonLaunchOptions {
  /** Told, in one line, what the caller waits for (the lock's holder). */
  onWait?: (message: string) => void;
  /** Told when a dead launcher's lock is taken over. */
  onTakeOver?: (message: string) => void;
}

export interface DaemonLaunch {
  connection: DaemonConnection;
  /** This call started the daemon. */
  launched: boolean;
  /** The pid of another daemon of this home that served nothing and was stopped. */
  strayStopped?: number[];
}

const pm2Require = () => createRequire(createRequire(import.meta.url).resolve('pm2/package.json'));

/** PM2 names its daemon process "PM2 v<version>: God Daemon (<PM2_HOME>)". */
export function isDaemonOf(pid: number, home: string): boolean {
  return commandLine(pid)?.endsWith(`God Daemon (${home})`) ?? false;
}

/**
 * Every PM2 daemon process of `home` running on this machine (from /proc; [] without it).
 *
 * A daemon's own child carries its title between fork and exec: the daemon runs `df -kP` for its
 * host metrics when it starts and every 30 s, and spawns each app, and under load that window
 * lasts long enough to be read (measured: a daemon sampled for 15 s showed ~50 such children).
 * A "daemon" whose parent is a daemon of the same home is one of those, not a second daemon.
 */
export function daemonProcesses(home: string = pm2Home()): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const titled = entries
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => isDaemonOf(pid, home));
  return titled.filter((pid) => {
    const parent = parentPid(pid);
    return parent === undefined || !titled.includes(parent);
  });
}

/** The pid listening on `home`'s rpc.sock (from /proc/net/unix), or undefined. */
export function servingDaemonPid(home: string = pm2Home()): number | undefined {
  const socket = rpcSocketPath(home);
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return undefined;
  }
  const inodes = table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    // Num RefCount Protocol Flags Type St Inode Path; flags 00010000 = listening.
    .filter((fields) => fields[7] === socket && fields[3] === '00010000')
    .map((fields) => fields[6] as string);
  return pidOfSocket(inodes);
}

function readPidFile(home: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops the daemons of `home` this process spawned that serve nothing (they lost the socket to
 * another launcher), by pid, and points pm2.pid at the daemon that serves, so `pm2 kill` and
 * anything reading pm2.pid reach it.
 */
function stopStrays(home: string): number[] {
  const serving = servingDaemonPid(home);
  if (serving === undefined) return [];
  const strays = childPids(process.pid).filter((pid) => pid !== serving && isDaemonOf(pid, home));
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  if (readPidFile(home) !== serving) {
    try {
      writeFileSync(join(home, 'pm2.pid'), String(serving));
    } catch {
      // a read-only home: pm2.pid stays as PM2 left it
    }
  }
  return strays;
}

/** Past this, a launch says what it waits for (a daemon is normally ready in ~0.3 s). */
const LAUNCH_NOTICE_MS = 3000;

/** Spawns the daemon through PM2's own client (its folders, its spawn), bounded. */
async function launch(home: string, onWait: ((message: string) => void) | undefined): Promise<void> {
  const pm2 = pm2Require()('./index.js') as {
    connect(cb: (error?: Error | null) => void): void;
    disconnect(cb?: () => void): void;
  };
  let timer: NodeJS.Timeout | undefined;
  const notice = setTimeout(
    () =>
      onWait?.(
        `waiting for the new PM2 daemon of PM2_HOME=${home} to say it is ready (up to ${LAUNCH_TIMEOUT_MS / 1000} s; its log: ${join(home, 'pm2.log')})`,
      ),
    LAUNCH_NOTICE_MS,
  );
  const connected = new Promise<'ready'>((resolve, reject) => {
    pm2.connect((error) => (error ? reject(error) : resolve('ready')));
  });
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), LAUNCH_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([connected, timedOut]);
    // PM2's client keeps retrying interactor.sock in the background; disconnecting stops its RPC
    // and bus sockets, and the entry point exits as soon as the command is done.
    if (result === 'ready') await new Promise<void>((resolve) => pm2.disconnect(() => resolve()));
  } finally {
    clearTimeout(timer);
    clearTimeout(notice);
  }
  // A daemon answers: ours, or another launcher's that won the socket (stopStrays ends ours).
  const answering = await connectDaemon();
  if (answering) {
    answering.close();
    return;
  }
  const spawned = childPids(process.pid).filter((pid) => isDaemonOf(pid, home));
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  throw new CLIError(
    `the PM2 daemon of PM2_HOME=${home} did not come up within ${LAUNCH_TIMEOUT_MS / 1000} s${spawned.length > 0 ? ` (stopped the daemon it spawned, pid ${spawned.join(', ')})` : ''}; its log: ${join(home, 'pm2.log')}\nnext: read the end of that log (tail -n 30 ${join(home, 'pm2.log')}), then run the command again`,
  );
}

/**
 * A connection to the PM2 daemon of $PM2_HOME, launching it when none answers. The launch takes
 * the home's daemon lock: a second caller waits (saying for whom), then joins the daemon the first
 * launched; a lock left by a dead launcher is taken over; the wait gives up at $DEVCTL_LOCK_TIMEOUT.
 */
export async function connectOrLaunchDaemon(options: DaemonLaunchOptions = {}): Promise<DaemonLaunch> {
  const existing = await connectDaemon();
  if (existing) return { connection: existing, launched: false };
  const home = pm2Home();
  const timeoutMs = lockTimeoutMs();
  try {
    return await withLock(
      {
        path: daemonLockPath(home),
        what: `the launch of the PM2 daemon of PM2_HOME=${home}`,
        timeoutMs,
        onWait: options.onWait,
        onTakeOver: options.onTakeOver,
      },
      async () => {
        // The caller we waited for has launched it: join.
        const joined = await connectDaemon();
        if (joined) return { connection: joined, launched: false };
        await launch(home, options.onWait);
        const strays = stopStrays(home);
        const connection = await connectDaemon();
        if (!connection) {
          throw new CLIError(
            `the PM2 daemon of PM2_HOME=${home} stopped answering right after it started; its log: ${join(home, 'pm2.log')}\nnext: tail -n 30 ${join(home, 'pm2.log')}`,
          );
        }
        return { connection, launched: true, ...(strays.length > 0 ? { strayStopped: strays } : {}) };
      },
    );
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    throw new CLIError(
      `${error.message}; no daemon answers on ${rpcSocketPath(home)}\nnext: if pid ${error.holder.pid} is stuck, stop it (kill ${error.holder.pid}) and run the command again; ${LOCK_TIMEOUT_VARIABLE}=<seconds> waits longer`,
      1,
      { lock: { path: error.path, holder: error.holder, waitedMs: error.waitedMs } },
    );
  }
}
