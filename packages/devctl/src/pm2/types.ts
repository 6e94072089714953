// The shape of PM2 process data inside devctl. Implemented by src/pm2/index.ts, which talks to the
// PM2 daemon over its RPC socket in $PM2_HOME (never by parsing PM2's CLI output).

export type Pm2Status =
  | 'online'
  | 'stopping'
  | 'stopped'
  | 'launching'
  | 'errored'
  | 'one-launch-status'
  /** Crashed, and PM2 waits (exponential backoff) before starting it again. */
  | 'waiting restart';

/** One PM2 process, without its environment (devctl never copies env values out of PM2). */
export interface ProcessInfo {
  name: string;
  namespace: string;
  pmId: number;
  /** PID of the real server process (0 when not running): below a wrapper such as npm, the innermost. */
  pid: number;
  /** PID of the process PM2 launched (the wrapper, if any; 0 when not running). */
  pm2Pid: number;
  /** How many processes run for this app (1 for a directly run server, 4 for `npm start`). */
  processCount: number;
  status: Pm2Status;
  /** Total restarts PM2 counted. */
  restarts: number;
  /** Restarts that happened before min_uptime (crashes while starting). */
  unstableRestarts: number;
  /** When the current process started (ms since epoch), or undefined. */
  startedAt: number | undefined;
  /** When PM2 first created the app (ms since epoch). */
  createdAt: number | undefined;
  /** CPU percent (PM2's monitor) and resident memory in bytes (the whole process tree). */
  cpu: number;
  memory: number;
  /** Exit code of the last exit, if any. */
  exitCode: number | undefined;
  outLogPath: string | undefined;
  errLogPath: string | undefined;
  /** PM2's restart-related settings, as the app was started. */
  maxMemoryRestart: number | undefined;
  /** The app's working directory and script as PM2 runs them. */
  cwd: string | undefined;
  script: string | undefined;
  /** Current exponential-backoff delay before the next automatic restart (0 once stable). */
  restartDelay: number;
  /** The app's exp_backoff_restart_delay (the first delay), 0 when it has none. */
  backoffBaseDelay: number;
  /** Exit codes after which PM2 does not restart the app (stop_exit_codes), and its autorestart. */
  stopExitCodes: number[];
  autorestart: boolean;
  /**
   * Which instance of its app this process is (PM2's NODE_APP_INSTANCE, 0 for a single one), and
   * whether PM2 runs it in cluster mode: then the port is held by the PM2 daemon, which hands each
   * connection to one instance.
   */
  instance?: number;
  clustered?: boolean;
  /** The keys of the app's own env at its last launch or restart by devctl (APP_ENV_KEYS), names only. */
  appEnvKeys?: string[];
  /** PM2's min_uptime: a run shorter than this counts as an unstable restart. */
  minUptime: number | undefined;
}
