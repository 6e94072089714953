import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dependencyWaves, localServiceUrl, readEcosystem, serviceUrlVariable } from '@repo/stack-contract';
import { waitForHttp } from './http';
import { freePorts } from './ports';
import { type SpawnedProcess, spawnProcess } from './process';
import { tempDir } from './temp';

/** One backend as the stack's ecosystem.config.js declares it. */
export interface StackService {
  /** The PM2 name, e.g. `form-service`. */
  name: string;
  /** Absolute folder of the service (services/<folder>). */
  cwd: string;
  /** PM2 names this service needs healthy first. */
  dependsOn: string[];
}

/** The repository root: the nearest folder above this file that holds pnpm-workspace.yaml. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The backends of ecosystem.config.js, in the file's order (its tools, such as the log rotator, left out). */
export function readStackServices(rootDir = repoRoot()): StackService[] {
  return readEcosystem(rootDir).services.map(({ name, cwd, dependsOn }) => ({ name, cwd, dependsOn }));
}

/** Groups services into start waves: each wave depends only on earlier waves (the contract's order). */
export const startWaves: (services: StackService[]) => StackService[][] = dependencyWaves;

/**
 * The URL variables that wire a test stack together: each service others call (a PM2 name ending in
 * `-service`) at its URL in `urls`; the gateway gets none (nothing calls it).
 */
export function stackUrlVariables(urls: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(urls)
      .filter(([name]) => name.endsWith('-service'))
      .map(([name, url]) => [serviceUrlVariable(name), url]),
  );
}

export interface StartStackOptions {
  rootDir?: string;
  /** Added to every service's environment (after the stack's own variables, so it can override them). */
  env?: Record<string, string>;
  /** Added to one service's environment, by PM2 name. */
  envFor?: Record<string, Record<string, string>>;
  /** LOG_LEVEL of every service (default `warn`). */
  logLevel?: string;
  /** How long each service may take to answer /health (default 30 s: a loaded 2-core machine is slow to start node). */
  healthTimeoutMs?: number;
  /** Keep the temp folder (database, outbox) after stop(), for debugging. */
  keepTemp?: boolean;
}

export interface RunningStack {
  /** Base URL of each service, by PM2 name. */
  urls: Record<string, string>;
  ports: Record<string, number>;
  gatewayUrl: string;
  /** EMAIL_OUTBOX_DIR (absolute). */
  outboxDir: string;
  /** DATABASE_FILE (absolute). */
  databaseFile: string;
  services: StackService[];
  /** Milliseconds from spawn to the first healthy /health answer, per service (a figure, not a bound). */
  startupMs: Record<string, number>;
  /** Everything a service wrote to stdout and stderr (JSON log lines). */
  logs(name: string): string;
  /** The running process of a service. */
  process(name: string): SpawnedProcess;
  /** SIGTERM one service (then SIGKILL by PID what remains); it stays down until startService. */
  stopService(name: string): Promise<void>;
  /** Starts a stopped service again on its port and waits for its /health. */
  startService(name: string): Promise<void>;
  /** Stops every service (SIGTERM, then by PID what remains) and removes the temp folder. */
  stop(): Promise<void>;
}

/**
 * Starts every built service of ecosystem.config.js (services/<folder>/dist/index.js) as real processes on free
 * ports, wired to each other through their *_SERVICE_URL variables, with a throwaway database and
 * outbox, in the dependency order of ecosystem.config.js, each one healthy before its dependents.
 */
export async function startStack(options: StartStackOptions = {}): Promise<RunningStack> {
  const rootDir = options.rootDir ?? repoRoot();
  const services = readStackServices(rootDir);
  const byName = new Map(services.map((s) => [s.name, s]));
  const missing = services.filter((s) => !existsSync(join(s.cwd, 'dist', 'index.js')));
  if (missing.length > 0) {
    throw new Error(
      `not built: ${missing.map((s) => join(s.cwd, 'dist', 'index.js')).join(', ')}; run \`npx turbo run build --filter=@repo/stack-tests...\` in ${rootDir}`,
    );
  }

  const temp = tempDir('devstack-stack-');
  const outboxDir = join(temp.path, 'outbox');
  const databaseFile = join(temp.path, 'devstack.db');
  const portList = await freePorts(services.length);
  const ports: Record<string, number> = {};
  const urls: Record<string, string> = {};
  services.forEach((s, i) => {
    ports[s.name] = portList[i] as number;
    urls[s.name] = localServiceUrl(portList[i] as number);
  });
  const serviceUrls = stackUrlVariables(urls);
  const healthTimeoutMs = options.healthTimeoutMs ?? 30_000;

  const environment = (name: string): NodeJS.ProcessEnv => ({
    // A minimal environment: nothing of the developer's shell (DATABASE_URL, SMTP_*) leaks in.
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(ports[name]),
    LOG_LEVEL: options.logLevel ?? 'warn',
    LOG_FORMAT: 'json',
    JWT_SECRET: 'stack-test-secret-0123456789abcdef0123456789abcdef',
    DATABASE_FILE: databaseFile,
    EMAIL_OUTBOX_DIR: outboxDir,
    ...serviceUrls,
    ...options.env,
    ...options.envFor?.[name],
  });

  const processes = new Map<string, SpawnedProcess>();
  const startupMs: Record<string, number> = {};

  const start = async (service: StackService) => {
    const started = performance.now();
    const child = spawnProcess(process.execPath, ['--enable-source-maps', 'dist/index.js'], {
      cwd: service.cwd,
      env: environment(service.name),
      name: service.name,
    });
    processes.set(service.name, child);
    const exitedEarly = child.exited.then(({ code, signal, error }) => {
      throw new Error(
        `exited before it was healthy (code ${code}, signal ${signal}${error ? `, ${error.message}` : ''})`,
      );
    });
    try {
      await Promise.race([
        waitForHttp(`${urls[service.name]}/health`, { timeoutMs: healthTimeoutMs }),
        exitedEarly,
      ]);
      startupMs[service.name] = Math.round(performance.now() - started);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const output = child.output().slice(-4000) || '(none)';
      throw new Error(`${service.name} did not start: ${message}\n--- ${service.name} output ---\n${output}`);
    } finally {
      exitedEarly.catch(() => {});
    }
  };

  const stopOne = async (name: string) => {
    const child = processes.get(name);
    if (!child) return;
    await child.kill('SIGTERM');
  };

  const stop = async () => {
    await Promise.all([...processes.keys()].map(stopOne));
    if (!options.keepTemp) temp.cleanup();
  };

  try {
    for (const wave of startWaves(services)) await Promise.all(wave.map(start));
  } catch (error) {
    await stop();
    throw error;
  }

  const known = (name: string): StackService => {
    const service = byName.get(name);
    if (!service)
      throw new Error(`no service ${name}; the stack has ${services.map((s) => s.name).join(', ')}`);
    return service;
  };

  return {
    urls,
    ports,
    gatewayUrl: urls['api-gateway'] ?? '',
    outboxDir,
    databaseFile,
    services,
    startupMs,
    logs: (name) => processes.get(known(name).name)?.output() ?? '',
    process: (name) => {
      const child = processes.get(known(name).name);
      if (!child) throw new Error(`${name} was never started`);
      return child;
    },
    stopService: (name) => stopOne(known(name).name),
    startService: (name) => start(known(name)),
    stop,
  };
}
