// The stack under a real PM2 daemon of its own: a private PM2_HOME, the generated ecosystem, PM2's
// own CLI (as a developer would type it), and a cleanup that kills the daemon and every child by
// PID. Also runs devctl against the same daemon and ecosystem.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { rawProcessList } from '@repo/devctl/src/pm2/index';
import { connectDaemon } from '@repo/devctl/src/pm2/rpc';
import { createPm2Home, type Pm2Home, repoRoot, waitForHttp } from '@repo/test-utils';
import { createTestEcosystem, type TestEcosystem, type TestEcosystemOptions } from './ecosystem';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** PM2's CLI entry (node_modules/pm2/bin/pm2), run with `node` to skip the npx start-up. */
export const PM2_BIN = join(dirname(require.resolve('pm2/package.json')), 'bin', 'pm2');
/** devctl's bin stub (builds dist/ when stale). */
export const DEVCTL_BIN = join(repoRoot(), 'packages', 'devctl', 'bin', 'devctl.js');

/**
 * What `pm2 jlist` prints, asked of the daemon over its RPC socket with devctl's own client (no PM2
 * CLI process per call: ~0.4 CPU-s each here; the crash test lists after every kill).
 */
async function rpcList(home: string): Promise<Pm2Process[]> {
  const connection = await connectDaemon(join(home, 'rpc.sock'));
  if (!connection) throw new Error(`no PM2 daemon answers on ${join(home, 'rpc.sock')}`);
  try {
    return (await rawProcessList(connection)) as unknown as Pm2Process[];
  } finally {
    connection.close();
  }
}

/** One process of `pm2 jlist`, only the fields these tests read. */
export interface Pm2Process {
  name: string;
  pid: number;
  pm_id: number;
  pm2_env: {
    status: string;
    restart_time: number;
    pm_uptime: number;
    namespace: string;
    unstable_restarts: number;
  };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Pm2Stack {
  ecosystem: TestEcosystem;
  pm2Home: Pm2Home;
  /** The environment given to the PM2 CLI and devctl: a minimal one, plus PM2_HOME. */
  env: NodeJS.ProcessEnv;
  /** Runs PM2's CLI against this daemon; never throws for a non-zero exit. */
  pm2(args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** Runs devctl against this daemon and ecosystem (DEVCTL_ROOT); never throws for a non-zero exit. */
  devctl(args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** What `pm2 jlist` prints, asked of the daemon over its RPC socket (throws when none runs). */
  list(): Promise<Pm2Process[]>;
  /** The process of one app, or a clear error. */
  processOf(name: string): Promise<Pm2Process>;
  /** Waits until every service answers /health (default 90 s each). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Kills the daemon and every descendant by PID, then removes the temporary folders. */
  stop(): Promise<void>;
}

async function exec(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], {
      env,
      cwd,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as {
      code?: number | string;
      stdout?: string;
      stderr?: string;
      killed?: boolean;
      message: string;
    };
    if (e.killed)
      throw new Error(
        `${file} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
    };
  }
}

/**
 * Writes a private ecosystem (free ports, temporary files) and gives it a private PM2 daemon.
 * Nothing is started: call `stack.pm2(['start', stack.ecosystem.file])` or `stack.devctl(['start'])`.
 */
export async function createPm2Stack(options: TestEcosystemOptions = {}): Promise<Pm2Stack> {
  const ecosystem = await createTestEcosystem(options);
  const pm2Home = createPm2Home('pm2-reliability-');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: '1',
    ...pm2Home.env,
  };
  const pm2 = (args: string[], timeoutMs = 120_000) => exec(PM2_BIN, args, env, ecosystem.dir, timeoutMs);
  const devctl = (args: string[], timeoutMs = 180_000) =>
    exec(DEVCTL_BIN, args, { ...env, DEVCTL_ROOT: ecosystem.dir }, ecosystem.dir, timeoutMs);

  const list = () => rpcList(pm2Home.home);

  return {
    ecosystem,
    pm2Home,
    env,
    pm2,
    devctl,
    list,
    async processOf(name) {
      const found = (await list()).find((p) => p.name === name);
      if (!found) throw new Error(`PM2 (PM2_HOME=${pm2Home.home}) has no process named ${name}`);
      return found;
    },
    async waitHealthy(timeoutMs = 90_000) {
      await Promise.all(
        ecosystem.services.map((name) => waitForHttp(`${ecosystem.urls[name]}/health`, { timeoutMs })),
      );
    },
    async stop() {
      try {
        await pm2Home.cleanup();
      } finally {
        ecosystem.cleanup();
      }
    },
  };
}
