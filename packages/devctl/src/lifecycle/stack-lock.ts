// One lifecycle command at a time per stack (a PM2 namespace in one PM2 home). Two `start`s at the
// same moment would each see a service absent and each launch it -- two copies under one name, the
// second failing on the port -- and a `stop` during a `restart` would take down what the restart is
// waiting on. So start, restart, stop and delete hold the stack's lock from before the build to the
// last answer; a second caller says in one line whom it waits for, then acts on what the first left
// (a start finds the services up and only checks their health). The daemon's own lock is taken
// inside this one, never the other way round, so the two cannot deadlock.
import { CLIError } from '../errors';
import {
  LOCK_TIMEOUT_VARIABLE,
  LockTimeoutError,
  lockTimeoutMs,
  stackLockPath,
  withLock,
} from '../lock/index';
import { pm2Home } from '../pm2/index';
import type { LifecycleSink } from './outcome';

export type LockedCommand = 'start' | 'restart' | 'stop' | 'delete';

const PAST: Record<LockedCommand, string> = {
  start: 'started',
  restart: 'restarted',
  stop: 'stopped',
  delete: 'deleted',
};

/** A line that must reach people whatever the output mode (a wait is never silent). */
export function notify(sink: LifecycleSink, text: string): void {
  if (sink.notice) sink.notice(text);
  else sink.line(text);
}

/** Runs `fn` holding the lock of `namespace`'s stack in this PM2 home; see the file's comment. */
export async function withStackLock<T>(
  namespace: string,
  command: LockedCommand,
  sink: LifecycleSink,
  fn: () => Promise<T>,
): Promise<T> {
  const home = pm2Home();
  const path = stackLockPath(home, namespace);
  try {
    return await withLock(
      {
        path,
        what: `the stack of namespace ${namespace} (PM2_HOME=${home})`,
        timeoutMs: lockTimeoutMs(),
        onWait: (message) => notify(sink, message),
        onTakeOver: (message) => notify(sink, message),
      },
      async (lock) => {
        if (lock.waitedFor.length > 0) {
          const last = lock.waitedFor[lock.waitedFor.length - 1];
          notify(
            sink,
            `waited ${(lock.waitedMs / 1000).toFixed(1)} s for pid ${last?.pid} (${last?.command}); now acting on what it left`,
          );
        }
        return fn();
      },
    );
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    const again = `devctl ${command}`;
    throw new CLIError(
      `${error.message}; nothing was ${PAST[command]}\nnext: run ${again} again once pid ${error.holder.pid} is done (devctl status shows the services); if it is stuck, stop it (kill ${error.holder.pid}) and run ${again}; ${LOCK_TIMEOUT_VARIABLE}=<seconds> waits longer`,
      1,
      { lock: { path: error.path, holder: error.holder, waitedMs: error.waitedMs } },
    );
  }
}

/** The daemon launch's wait and take-over lines, said like the stack's own. */
export function daemonNotices(sink: LifecycleSink): {
  onWait: (message: string) => void;
  onTakeOver: (message: string) => void;
} {
  return { onWait: (message) => notify(sink, message), onTakeOver: (message) => notify(sink, message) };
}
