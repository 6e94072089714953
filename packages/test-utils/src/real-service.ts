import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PortTakenError, waitForHttp } from './http';
import { freePort } from './ports';
import { type SpawnedProcess, spawnProcess } from './process';
import { tempDir } from './temp';

/**
 * A service of services/<folder> as its own process, run from its TypeScript source (as
 * `pnpm dev:services` does) on a free port, reached over HTTP only; up once /health answers with
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
    const child = spawnProcess(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/index.ts'], {
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
