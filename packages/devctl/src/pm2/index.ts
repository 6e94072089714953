// devctl's connection to PM2. Reads go straight to the daemon's RPC socket (fast, and never starts a
// daemon); lifecycle calls use the same RPC methods PM2's own CLI uses, with app configurations
// resolved by PM2's own code (lib/Common.js), so `devctl start` and `pm2 start ecosystem.config.js`
// give the same processes. No environment value ever leaves this module: ProcessInfo is built from
// an allow-list of pm2_env fields.
import { createRequire } from 'node:module';
import { processTree, residentBytes, serverPid } from '../ports/processes';
import { connectDaemon, type DaemonConnection, pm2Home } from './rpc';
import type { Pm2Status, ProcessInfo } from './types';

export {
  connectOrLaunchDaemon,
  type DaemonLaunch,
  type DaemonLaunchOptions,
  daemonProcesses,
  servingDaemonPid,
} from './daemon';
export { DaemonCallError, type DaemonConnection, pm2Home, rpcSocketPath } from './rpc';
export type { Pm2Status, ProcessInfo } from './types';

/** The pm2_env fields devctl reads; everything else (the environment included) is ignored. */
interface RawPm2Env {
  name?: string;
  namespace?: string;
  pm_id?: number;
  status?: string;
  restart_time?: number;
  unstable_restarts?: number;
  pm_uptime?: number;
  created_at?: number;
  exit_code?: number;
  pm_out_log_path?: string;
  pm_err_log_path?: string;
  pm_cwd?: string;
  pm_exec_path?: string;
  max_memory_restart?: number;
  min_uptime?: number;
  prev_restart_delay?: number;
  exp_backoff_restart_delay?: number;
  stop_exit_codes?: unknown;
  autorestart?: unknown;
  version?: string;
  exec_mode?: string;
  NODE_APP_INSTANCE?: unknown;
  /**
   * Read for one variable only: APP_ENV_KEYS (names, never values), from `env` (what a restart
   * replaces with the app's own env) first, else the top level (copied at the first launch).
   */
  DEVCTL_APP_ENV_KEYS?: unknown;
  env?: Record<string, unknown>;
}

export interface RawProcess {
  name?: string;
  pid?: number;
  pm_id?: number;
  monit?: { memory?: number; cpu?: number };
  pm2_env?: RawPm2Env;
}

const KNOWN_STATUSES = new Set<string>([
  'online',
  'stopping',
  'stopped',
  'launching',
  'errored',
  'one-launch-status',
  'waiting restart',
]);

/** Maps one entry of the daemon's process list to ProcessInfo, dropping every environment value. */
export function toProcessInfo(raw: RawProcess): ProcessInfo {
  const env = raw.pm2_env ?? {};
  const pm2Pid = Number(raw.pid) || 0;
  const status = (KNOWN_STATUSES.has(String(env.status)) ? env.status : 'stopped') as Pm2Status;
  const running = pm2Pid > 0 && (status === 'online' || status === 'launching' || status === 'stopping');
  const tree = running ? processTree(pm2Pid) : [];
  // A wrapper (npm -> sh -> node) makes PM2 measure the wrapper alone: count the whole tree.
  const memory =
    tree.length > 1 ? tree.reduce((sum, pid) => sum + residentBytes(pid), 0) : Number(raw.monit?.memory) || 0;
  return {
    name: String(env.name ?? raw.name ?? ''),
    namespace: String(env.namespace ?? 'default'),
    pmId: Number(env.pm_id ?? raw.pm_id ?? -1),
    pid: running ? serverPid(pm2Pid) : 0,
    pm2Pid: running ? pm2Pid : 0,
    processCount: tree.length,
    status,
    restarts: Number(env.restart_time) || 0,
    unstableRestarts: Number(env.unstable_restarts) || 0,
    startedAt: typeof env.pm_uptime === 'number' ? env.pm_uptime : undefined,
    createdAt: typeof env.created_at === 'number' ? env.created_at : undefined,
    cpu: Number(raw.monit?.cpu) || 0,
    memory,
    exitCode: typeof env.exit_code === 'number' ? env.exit_code : undefined,
    outLogPath: env.pm_out_log_path,
    errLogPath: env.pm_err_log_path,
    maxMemoryRestart: typeof env.max_memory_restart === 'number' ? env.max_memory_restart : undefined,
    cwd: env.pm_cwd,
    script: env.pm_exec_path,
    restartDelay: Number(env.prev_restart_delay) || 0,
    backoffBaseDelay: Number(env.exp_backoff_restart_delay) || 0,
    stopExitCodes: (Array.isArray(env.stop_exit_codes) ? env.stop_exit_codes : [env.stop_exit_codes])
      .map(Number)
      .filter((code) => Number.isInteger(code)),
    autorestart: env.autorestart !== false && env.autorestart !== 'false',
    minUptime: typeof env.min_uptime === 'number' ? env.min_uptime : undefined,
    instance: Number(env.NODE_APP_INSTANCE) || 0,
    clustered: env.exec_mode === 'cluster_mode',
    appEnvKeys: appEnvKeysFrom(env.env?.[APP_ENV_KEYS] ?? env.DEVCTL_APP_ENV_KEYS),
  };
}

/**
 * The variable in which devctl names the keys of the app's own `env` (from ecosystem.config.js) when
 * it launches or restarts it: PM2 keeps every variable a process ever had across restarts (its
 * restartProcessId extends the stored env with the new one), so a variable removed from the file
 * would stay set (trial 18: WORKER_POLL_INTERVAL_MS deleted from worker-service's env, restarted,
 * still polling every minute). The names let the next restart see what was removed.
 */
export const APP_ENV_KEYS = 'DEVCTL_APP_ENV_KEYS';

const appEnvKeysFrom = (value: unknown) =>
  typeof value === 'string' ? value.split(',').filter(Boolean) : undefined;

/** The keys of the app's own env. */
function appEnvKeysOf(app: Record<string, unknown>): string[] {
  return app.env && typeof app.env === 'object' ? Object.keys(app.env).sort() : [];
}

/** The variables the app's env set at its last launch by devctl that ecosystem.config.js no longer sets. */
export function removedAppEnvKeys(info: ProcessInfo, app: Record<string, unknown>): string[] {
  const now = new Set(appEnvKeysOf(app));
  return (info.appEnvKeys ?? []).filter((key) => !now.has(key));
}

/** True when a PM2 daemon answers on $PM2_HOME/rpc.sock. Never starts one. */
export async function isDaemonRunning(): Promise<boolean> {
  const connection = await connectDaemon();
  if (!connection) return false;
  try {
    // God.ping(env, cb): without the env argument the daemon takes the callback for it and fails.
    await connection.call('ping', {});
    return true;
  } catch {
    return false;
  } finally {
    connection.close();
  }
}

/** The raw process list of the daemon on an open connection (environment included: never print it). */
export async function rawProcessList(connection: DaemonConnection): Promise<RawProcess[]> {
  const list = await connection.call<RawProcess[]>('getMonitorData', {});
  return Array.isArray(list) ? list : [];
}

export async function processList(
  connection: DaemonConnection,
  options: { namespace?: string } = {},
): Promise<ProcessInfo[]> {
  const list = (await rawProcessList(connection)).map(toProcessInfo);
  return options.namespace === undefined ? list : list.filter((p) => p.namespace === options.namespace);
}

/**
 * Every PM2 process (of `namespace` when given), without environment values; null when the daemon
 * is not running. Never starts a daemon.
 */
export async function listProcesses(options: { namespace?: string } = {}): Promise<ProcessInfo[] | null> {
  const connection = await connectDaemon();
  if (!connection) return null;
  try {
    return await processList(connection, options);
  } finally {
    connection.close();
  }
}

/** Runs `fn` with a connection to a running daemon; null when none runs. Always closes it. */
export async function withDaemon<T>(fn: (connection: DaemonConnection) => Promise<T>): Promise<T | null> {
  const connection = await connectDaemon();
  if (!connection) return null;
  try {
    return await fn(connection);
  } finally {
    connection.close();
  }
}

const pm2Require = () => createRequire(createRequire(import.meta.url).resolve('pm2/package.json'));

/** The version of the installed pm2 package. */
export function installedPm2Version(): string {
  return String((pm2Require()('./package.json') as { version: string }).version);
}

interface Pm2Common {
  verifyConfs(apps: unknown[]): unknown[] | Error;
  resolveAppAttributes(opts: { cwd: string; pm2_home: string }, app: unknown): Record<string, unknown>;
  mergeEnvironmentVariables(app: unknown, envName?: string, deploy?: unknown): Record<string, unknown>;
}

let common: Pm2Common | undefined;
function pm2Common(): Pm2Common {
  common ??= pm2Require()('./lib/Common.js') as Pm2Common;
  return common;
}

/**
 * Runs PM2's helpers with PM2_SILENT set, so they print nothing on our stdout (`[PM2] Creating
 * folder: ...` would break --json), and keeps the variable out of the apps' environment.
 */
function quietly<T>(fn: () => T): T {
  const before = process.env.PM2_SILENT;
  process.env.PM2_SILENT = 'true';
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.PM2_SILENT;
    else process.env.PM2_SILENT = before;
  }
}

/** Validates ecosystem app objects with PM2's own schema; throws with PM2's message. */
function verifiedApps(apps: Record<string, unknown>[]): Record<string, unknown>[] {
  const copies = apps.map((app) => structuredClone(app));
  const verified = quietly(() => pm2Common().verifyConfs(copies));
  if (verified instanceof Error) throw new Error(`ecosystem.config.js: ${verified.message}`);
  return verified as Record<string, unknown>[];
}

/**
 * Launches one ecosystem app in the daemon (RPC `prepare`, as `pm2 start ecosystem.config.js`
 * does). With `wait_ready` the daemon answers once the app sent 'ready' (or listen_timeout passed).
 */
export async function launchApp(
  connection: DaemonConnection,
  app: Record<string, unknown>,
  root: string,
): Promise<ProcessInfo[]> {
  const [verified] = verifiedApps([app]);
  const hadSilent = process.env.PM2_SILENT !== undefined;
  const resolved = quietly(() =>
    pm2Common().resolveAppAttributes({ cwd: root, pm2_home: pm2Home() }, verified),
  );
  const env = (resolved.env ?? {}) as Record<string, unknown>;
  if (!hadSilent) delete env.PM2_SILENT;
  env.PM2_HOME = pm2Home();
  env[APP_ENV_KEYS] = appEnvKeysOf(app).join(',');
  resolved.env = env;
  resolved.env = quietly(() => pm2Common().mergeEnvironmentVariables(resolved));
  delete (resolved.env as Record<string, unknown>).current_conf;
  const started = await connection.call<RawProcess[]>('prepare', resolved);
  return (Array.isArray(started) ? started : []).map(toProcessInfo);
}

/** The environment update PM2 applies on `pm2 restart ecosystem.config.js`: env and app settings. */
export function restartEnv(app: Record<string, unknown>): Record<string, unknown> {
  const [verified] = verifiedApps([app]);
  const env = quietly(() => pm2Common().mergeEnvironmentVariables(verified));
  const keys = appEnvKeysOf(app).join(',');
  env[APP_ENV_KEYS] = keys;
  // PM2's restart then replaces the stored `env` with the app's own (current_conf.env): the names
  // must be there too, or a process restarted once would not know them at its next restart.
  const conf = env.current_conf as Record<string, unknown> | undefined;
  if (conf && typeof conf === 'object') {
    const own = conf.env && typeof conf.env === 'object' ? (conf.env as Record<string, unknown>) : {};
    conf.env = { ...own, [APP_ENV_KEYS]: keys };
  }
  env.updateEnv = true;
  return env;
}

export async function stopProcess(connection: DaemonConnection, pmId: number): Promise<void> {
  await connection.call('stopProcessId', pmId);
}

/**
 * Restarts (stop, then start) one process, applying `env` (see restartEnv) when given; resolves
 * with the new process as the daemon reports it (with wait_ready, once it is ready).
 */
export async function restartProcess(
  connection: DaemonConnection,
  pmId: number,
  env?: Record<string, unknown>,
): Promise<ProcessInfo | undefined> {
  const restarted = await connection.call<RawProcess | undefined>('restartProcessId', {
    id: pmId,
    env: env ?? {},
  });
  return restarted && typeof restarted === 'object' && restarted.pm2_env
    ? toProcessInfo(restarted)
    : undefined;
}

/**
 * Reloads one instance of a cluster-mode app (RPC `reloadProcessId`): PM2 starts the replacement,
 * waits for its 'ready', and only then stops the old process, so the port never lacks an instance.
 * A stopped instance is simply started.
 */
export async function reloadProcess(
  connection: DaemonConnection,
  pmId: number,
  env?: Record<string, unknown>,
): Promise<void> {
  await connection.call('reloadProcessId', { id: pmId, env: env ?? {} });
}

export async function deleteProcess(connection: DaemonConnection, pmId: number): Promise<void> {
  await connection.call('deleteProcessId', pmId);
}
