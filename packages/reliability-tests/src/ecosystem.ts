// A private copy of the stack's ecosystem.config.js for tests that run the real services under a
// real PM2: the same apps and PM2 settings, but every service on a free port, wired to the others
// through its *_SERVICE_URL variables, with its database, outbox and log files in a temporary
// folder. Written as `<dir>/ecosystem.config.js`, so both `pm2 start <file>` and devctl (with
// DEVCTL_ROOT=<dir>) read it. Together with createPm2Home (a private PM2_HOME) nothing touches the
// developer's stack on ports 3000-3006 or their PM2 daemon.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localServiceUrl, readEcosystemApps as readApps } from '@repo/stack-contract';
import { freePorts, repoRoot, stackUrlVariables, type TempDir, tempDir } from '@repo/test-utils';

/** An app entry of ecosystem.config.js, as PM2 reads it. */
export type EcosystemApp = Record<string, unknown> & {
  name: string;
  cwd?: string;
  env?: Record<string, string>;
};

export interface TestEcosystemOptions {
  rootDir?: string;
  /** Variables for every service (after the generated ones, so they can override them). */
  env?: Record<string, string>;
  /** Variables for one service, by PM2 name. */
  envFor?: Record<string, Record<string, string>>;
  /** LOG_LEVEL of every service (default `info`, as in development). */
  logLevel?: string;
  /** A last change to each app entry (e.g. a shorter kill_timeout); return the entry to write. */
  editApp?: (app: EcosystemApp) => EcosystemApp;
  /** Chooses the apps to write, from the repository's (e.g. only some, or extra test apps). */
  selectApps?: (apps: EcosystemApp[]) => EcosystemApp[];
  /** Keep the folder after cleanup(), for debugging. */
  keep?: boolean;
}

export interface TestEcosystem {
  /** The temporary folder; DEVCTL_ROOT for devctl. */
  dir: string;
  /** `<dir>/ecosystem.config.js`. */
  file: string;
  /** The app entries as written. */
  apps: EcosystemApp[];
  /** PM2 names of the services (apps with a PORT). */
  services: string[];
  ports: Record<string, number>;
  urls: Record<string, string>;
  gatewayUrl: string;
  databaseFile: string;
  outboxDir: string;
  /** out.log and error.log of each app (PM2 writes them). */
  logFiles: Record<string, { out: string; err: string }>;
  jwtSecret: string;
  cleanup(): void;
}

/**
 * `envFor` of a stack whose test queues no job: the worker asks for one every 5 s instead of every
 * 500 ms. The idle worker's poll, and data-service's answer to it, were the largest steady CPU cost
 * of a stack that runs for minutes on a loaded machine. Tests that submit forms keep the default.
 */
export const NO_JOBS_ENV: Record<string, Record<string, string>> = {
  'worker-service': { WORKER_POLL_INTERVAL_MS: '5000' },
};

/** The apps of the repository's ecosystem.config.js, read as PM2 reads them (CommonJS require). */
export function readEcosystemApps(rootDir = repoRoot()): EcosystemApp[] {
  // A copy: the tests edit the entries they write.
  return structuredClone(readApps(rootDir) as EcosystemApp[]);
}

/**
 * Writes the private ecosystem. Service apps (those with env.PORT) get a free port each; any other
 * app (e.g. the log rotator) is kept with its logs moved into the folder too.
 */
export async function createTestEcosystem(options: TestEcosystemOptions = {}): Promise<TestEcosystem> {
  const rootDir = options.rootDir ?? repoRoot();
  const read = readEcosystemApps(rootDir);
  const original = options.selectApps ? options.selectApps(read) : read;
  const temp: TempDir = tempDir('devstack-ecosystem-');
  const dir = temp.path;
  const services = original.filter((app) => app.env?.PORT !== undefined).map((app) => app.name);
  const portList = await freePorts(services.length);
  const ports: Record<string, number> = {};
  const urls: Record<string, string> = {};
  services.forEach((name, i) => {
    ports[name] = portList[i] as number;
    urls[name] = localServiceUrl(portList[i] as number);
  });
  const serviceUrls = stackUrlVariables(urls);
  const databaseFile = join(dir, 'data', 'devstack.db');
  const outboxDir = join(dir, 'outbox');
  const jwtSecret = `test-ecosystem-secret-${Math.random().toString(36).slice(2)}-0123456789abcdef`;
  const logFiles: Record<string, { out: string; err: string }> = {};

  const apps = original.map((app) => {
    const logs = {
      out: join(dir, 'logs', app.name, 'out.log'),
      err: join(dir, 'logs', app.name, 'error.log'),
    };
    logFiles[app.name] = logs;
    let entry: EcosystemApp = { ...app, out_file: logs.out, error_file: logs.err };
    if (services.includes(app.name)) {
      entry.env = {
        ...app.env,
        NODE_ENV: 'test',
        PORT: String(ports[app.name]),
        LOG_LEVEL: options.logLevel ?? 'info',
        LOG_FORMAT: 'json',
        JWT_SECRET: jwtSecret,
        DATABASE_FILE: databaseFile,
        EMAIL_OUTBOX_DIR: outboxDir,
        ...serviceUrls,
        ...options.env,
        ...options.envFor?.[app.name],
      };
    }
    if (options.editApp) entry = options.editApp(entry);
    return entry;
  });

  const file = join(dir, 'ecosystem.config.js');
  writeFileSync(
    file,
    `// Generated by @repo/reliability-tests from ${join(rootDir, 'ecosystem.config.js')}: free ports, temporary files.\nmodule.exports = ${JSON.stringify({ apps }, null, 2)};\n`,
  );
  return {
    dir,
    file,
    apps,
    services,
    ports,
    urls,
    gatewayUrl: urls['api-gateway'] ?? '',
    databaseFile,
    outboxDir,
    logFiles,
    jwtSecret,
    cleanup: () => {
      if (!options.keep) temp.cleanup();
    },
  };
}
