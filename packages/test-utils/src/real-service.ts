import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PortTakenError, waitForHttp } from './http';
import { freePort } from './ports';
import { type SpawnedProcess, spawnProcess } from './process';
import { tempDir } from './temp';

/**
 * The arguments that run the service in `cwd`: its built bundle when that is at least as new as
 * every source file it was built from (the bundle's source map lists them, the workspace packages'
 * included), else its TypeScript through tsx, as `pnpm dev:services` does. `pnpm test` builds every
 * service before its tests (turbo's `^build`), so there the bundle is used; a source edited since
 * the last build (a developer running vitest by hand) runs from source, never stale. The bundle
 * starts on a third of the CPU (measured, email-service to its first /health, cgroup cpuacct, three
 * runs each: 1.7-2.0 CPU-s through tsx, 0.43-0.54 from dist/), and `pnpm test` starts dozens.
 */
export function serviceEntry(cwd: string): string[] {
  const bundle = join(cwd, 'dist', 'index.js');
  if (isFreshBuild(cwd)) return ['--enable-source-maps', bundle];
  return ['--conditions=source', '--import', 'tsx', 'src/index.ts'];
}

/**
 * Whether the package in `cwd` has a dist/index.js at least as new as every source its source map
 * lists: then it is the bundle of that TypeScript as it is now. False without a build or a map, or
 * when a listed source is gone.
 */
export function isFreshBuild(cwd: string): boolean {
  const bundle = join(cwd, 'dist', 'index.js');
  try {
    const built = statSync(bundle).mtimeMs;
    const { sources } = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
    return (
      sources.length > 0 && sources.every((source) => statSync(resolve(cwd, 'dist', source)).mtimeMs <= built)
    );
  } catch {
    return false;
  }
}

/**
 * A service of services/<folder> as its own process (serviceEntry: its fresh build, else its
 * TypeScript) on a free port, reached over HTTP only; up once /health answers with
 * its own pid. A port another test's process took between the pick and the bind is picked again
 * (twice at most): that process's /health is not this service's.
 */
export async function spawnRealService(
  folder: string,
  env: Record<string, string>,
  options: { name?: string; logLevel?: string } = {},
): Promise<{ url: string; process: SpawnedProcess }> {
  const cwd = fileURLToPath(new URL(`../../../services/${folder}/`, import.meta.url));
  const name = options.name ?? folder;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawnProcess(process.execPath, serviceEntry(cwd), {
      cwd,
      name,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: options.logLevel ?? 'warn',
        ...env,
      },
    });
    try {
      await waitForHttp(`${url}/health`, { timeoutMs: 60_000, pid: child.pid });
      return { url, process: child };
    } catch (error) {
      await child.kill('SIGKILL');
      if (error instanceof PortTakenError && attempt < 3) continue;
      throw new Error(`${name} did not start: ${(error as Error).message}\n${child.output().slice(-3000)}`);
    }
  }
}

/** spawnRealService, with its output and a stop that kills it by PID. */
export async function startRealService(folder: string, env: Record<string, string>) {
  const { url, process: child } = await spawnRealService(folder, env);
  return { url, output: () => child.output(), stop: () => child.kill() };
}

/** The real data-service with its embedded database in a throwaway folder. */
export async function startRealDataService(env: Record<string, string> = {}) {
  const scratch = tempDir('data-service-');
  const service = await startRealService('data', { DATABASE_FILE: join(scratch.path, 'app.db'), ...env });
  return {
    ...service,
    async stop() {
      await service.stop();
      scratch.cleanup();
    },
  };
}
