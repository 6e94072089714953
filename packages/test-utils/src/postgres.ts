// A throwaway PostgreSQL server for tests: initdb into a fresh temporary folder, start it on a free
// port of 127.0.0.1 (its unix socket inside that folder, so it never collides with a system server),
// create one database, and hand back its URL. `stop()` stops the server and removes the folder.
//
// initdb and postgres refuse to run as root, so when the tests run as root the server runs as the
// `postgres` OS user (created with useradd if it is missing).
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface StartPostgresOptions {
  /** Name of the database created for the test (default `test`). */
  database?: string;
  /** Folder of initdb, pg_ctl and postgres (default: `PG_BIN_DIR`, else /usr/local/bin). */
  binDir?: string;
}

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`: superuser, trust authentication. */
  url: string;
  port: number;
  /** The temporary folder (data directory, socket, server log). */
  dir: string;
  /** Stops the server (`pg_ctl stop -m fast`) and removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const SERVER_USER = 'postgres';

/** Settings that make a test server fast; durability is worthless for a database thrown away. */
const SERVER_OPTIONS = [
  '-c fsync=off',
  '-c synchronous_commit=off',
  '-c full_page_writes=off',
  '-c max_connections=50',
  '-c shared_buffers=16MB',
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function commandError(what: string, error: unknown, logFile?: string): Error {
  const e = error as { stderr?: string; stdout?: string; message?: string; code?: string };
  const output = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || e.message || String(error);
  let log = '';
  if (logFile && existsSync(logFile))
    log = `\n--- server log (${logFile}) ---\n${readFileSync(logFile, 'utf8').slice(-2000)}`;
  return new Error(`startPostgres: ${what} failed: ${output}${log}`, { cause: error });
}

/** Makes sure the unprivileged OS user that runs the server exists; returns its uid and gid. */
function ensureServerUser(): { uid: number; gid: number } {
  const lookup = () => {
    try {
      const uid = Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER],
      {
        stdio: 'pipe',
      },
    );
  } catch (error) {
    throw new Error(
      `startPostgres: running as root, and PostgreSQL refuses to run as root, so it runs as the OS user "${SERVER_USER}"; ` +
        `that user does not exist and \`useradd --system ${SERVER_USER}\` failed: ${(error as Error).message}. ` +
        `Create the user by hand, or run the tests as a non-root user.`,
      { cause: error },
    );
  }
  const created = lookup();
  if (!created)
    throw new Error(`startPostgres: useradd reported success but user "${SERVER_USER}" is still missing`);
  return created;
}

/** The first of /usr/local/bin, the PATH and Debian's /usr/lib/postgresql/<v>/bin that has initdb. */
function findPgBinDir(): string {
  // biome-ignore lint/complexity/useLiteralKeys: process.env is an index signature
  const path = (process.env['PATH'] ?? '').split(':').filter(Boolean);
  let debian: string[] = [];
  try {
    debian = readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join('/usr/lib/postgresql', v, 'bin'));
  } catch {
    // no Debian PostgreSQL server package
  }
  const candidates = ['/usr/local/bin', ...path, ...debian];
  return (
    candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ??
    '/usr/local/bin'
  );
}

/**
 * Starts a private PostgreSQL server. Call `stop()` in `afterAll`; a process exit without it still
 * stops the server (synchronously, in an `exit` hook), so no postgres process outlives the tests.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  // biome-ignore lint/complexity/useLiteralKeys: process.env is an index signature
  const binDir = options.binDir ?? process.env['PG_BIN_DIR'] ?? findPgBinDir();
  const database = options.database ?? 'test';
  // A project's name (`devctl init my-app`) is its database's: hyphens allowed, the name quoted.
  if (!/^[a-z_][a-z0-9_-]*$/.test(database))
    throw new Error(`startPostgres: invalid database name ${database}`);
  const bin = (name: string) => join(binDir, name);
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(bin(name))) {
      throw new Error(
        `startPostgres: ${bin(name)} not found; install PostgreSQL or set PG_BIN_DIR to its bin folder`,
      );
    }
  }

  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? ensureServerUser() : undefined;
  // As root, every command runs as the server user; `runuser` keeps no privilege.
  const asServerUser = (command: string, args: string[]): [string, string[]] =>
    owner ? ['runuser', ['-u', SERVER_USER, '--', command, ...args]] : [command, args];

  const dir = await mkdtemp(join(tmpdir(), 'pg-test-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (owner) await chown(dir, owner.uid, owner.gid);

  let started = false;
  let stopped = false;
  let watchdog: ChildProcess | undefined;

  const stopWatchdog = () => {
    if (watchdog?.pid === undefined) return;
    try {
      process.kill(-watchdog.pid, 'SIGKILL'); // its own process group: the shell and its sleep
    } catch {
      // already gone
    }
    watchdog = undefined;
  };

  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    stopWatchdog();
    if (started) {
      const [cmd, args] = asServerUser(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
      spawnSync(cmd, args, { cwd: dir, stdio: 'ignore', timeout: 10_000 });
      killPostmaster(dataDir);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);

  try {
    const [initCmd, initArgs] = asServerUser(bin('initdb'), [
      '-D',
      dataDir,
      '-U',
      SERVER_USER,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await run(initCmd, initArgs, { cwd: dir, timeout: 60_000 }).catch((error) => {
      throw commandError('initdb', error);
    });

    // Single-user mode creates the database before the server listens, with no client binary needed.
    const single = spawnSync(
      ...asServerUser(bin('postgres'), ['--single', '-D', dataDir, '-F', 'postgres']),
      {
        cwd: dir,
        input: `CREATE DATABASE "${database}";\n`,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (single.status !== 0 || /ERROR/.test(single.stderr ?? '')) {
      throw commandError('CREATE DATABASE', { stderr: single.stderr, message: `exit ${single.status}` });
    }

    // The port is free when asked but can be taken before the server binds it: try a few.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const serverOptions = [
        '-c listen_addresses=127.0.0.1',
        `-p ${port}`,
        `-k ${dir}`,
        ...SERVER_OPTIONS,
      ].join(' ');
      const [startCmd, startArgs] = asServerUser(bin('pg_ctl'), [
        'start',
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-t',
        '60',
        '-o',
        serverOptions,
      ]);
      try {
        started = true;
        await run(startCmd, startArgs, { cwd: dir, timeout: 90_000 });
        break;
      } catch (error) {
        killPostmaster(dataDir);
        started = false;
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        if (attempt < 3 && /could not bind|Address already in use/i.test(log)) continue;
        throw commandError(`pg_ctl start (port ${port})`, error, logFile);
      }
    }

    watchdog = startWatchdog({ pgCtl: bin('pg_ctl'), dataDir, dir, asServerUser: owner !== undefined });

    const stop = async () => {
      if (stopped) return;
      stopped = true;
      stopWatchdog();
      process.removeListener('exit', stopSync);
      try {
        const [cmd, args] = asServerUser(bin('pg_ctl'), [
          'stop',
          '-D',
          dataDir,
          '-m',
          'fast',
          '-w',
          '-t',
          '30',
        ]);
        await run(cmd, args, { cwd: dir, timeout: 40_000 }).catch(() => undefined);
        killPostmaster(dataDir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    return { url: `postgres://${SERVER_USER}@127.0.0.1:${port}/${database}`, port, dir, stop };
  } catch (error) {
    stopSync();
    process.removeListener('exit', stopSync);
    throw error;
  }
}

/**
 * A detached shell that outlives this process: once this process is gone without calling stop()
 * (killed by a signal, a test runner's timeout, SIGKILL), it stops the server and removes the folder.
 */
function startWatchdog(options: {
  pgCtl: string;
  dataDir: string;
  dir: string;
  asServerUser: boolean;
}): ChildProcess {
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    `if [ "$5" = 1 ]; then runuser -u ${SERVER_USER} -- "$4" stop -D "$2" -m immediate -w; else "$4" stop -D "$2" -m immediate -w; fi`,
    'rm -rf "$3"',
  ].join('\n');
  const child = spawn(
    'sh',
    [
      '-c',
      script,
      'pg-test-watchdog',
      String(process.pid),
      options.dataDir,
      options.dir,
      options.pgCtl,
      options.asServerUser ? '1' : '0',
    ],
    { detached: true, stdio: 'ignore', cwd: options.dir },
  );
  child.unref();
  return child;
}

/** Kills the postmaster named in postmaster.pid, if it is still there (a stop that failed or hung). */
function killPostmaster(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    // SIGQUIT: immediate shutdown, the postmaster takes its children down with it.
    process.kill(pid, 'SIGQUIT');
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    spawnSync('sleep', ['0.05']);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
