import { existsSync, readFileSync } from 'node:fs';
import { isAlive, killTree } from './process';
import { tempDir } from './temp';

export interface Pm2Home {
  /** The private PM2_HOME folder. */
  home: string;
  /** Variables to add to a child's environment: PM2_HOME and PM2's quiet, offline settings. */
  env: Record<string, string>;
  /** The PID of this home's daemon, if one is running (read from `$home/pm2.pid`). */
  daemonPid(): number | undefined;
  /**
   * Kills this home's daemon and every descendant by PID, waits until they are gone, and removes
   * the folder. Never touches another PM2 daemon (~/.pm2 or another test's).
   */
  cleanup(): Promise<void>;
}

function readDaemonPid(home: string): number | undefined {
  const file = `${home}/pm2.pid`;
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** A throwaway PM2_HOME, so a test's PM2 daemon is its own and never the developer's. */
export function createPm2Home(prefix = 'pm2-home-'): Pm2Home {
  const dir = tempDir(prefix);
  const home = dir.path;
  return {
    home,
    env: {
      PM2_HOME: home,
      // No keymetrics interactor, no banners on stdout.
      PM2_NO_INTERACTION: 'true',
      PM2_DISCRETE_MODE: 'true',
    },
    daemonPid: () => readDaemonPid(home),
    async cleanup() {
      const pid = readDaemonPid(home);
      if (pid !== undefined && isAlive(pid)) await killTree(pid, 'SIGTERM', { graceMs: 3000 });
      assertNoPm2Daemon(home);
      dir.cleanup();
    },
  };
}

/** Throws if the daemon recorded in `home/pm2.pid` is still alive. */
export function assertNoPm2Daemon(home: string): void {
  const pid = readDaemonPid(home);
  if (pid !== undefined && isAlive(pid)) {
    throw new Error(`the PM2 daemon of ${home} (pid ${pid}) is still running; stop it with: kill ${pid}`);
  }
}
