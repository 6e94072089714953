import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForHttp } from './http';
import { freePort } from './ports';
import { spawnProcess } from './process';
import { tempDir } from './temp';

/**
 * A service of services/<folder> as its own process, run from its TypeScript source (as
 * `pnpm dev:services` does) on a free port, reached over HTTP only. Killed by PID in `stop()`.
 */
export async function startRealService(folder: string, env: Record<string, string>) {
  const cwd = fileURLToPath(new URL(`../../../services/${folder}/`, import.meta.url));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnProcess(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/index.ts'], {
    cwd,
    name: folder,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  try {
    await waitForHttp(`${url}/health`, { timeoutMs: 60_000 });
  } catch (error) {
    await child.kill();
    throw new Error(`${folder} did not start: ${(error as Error).message}\n${child.output()}`);
  }
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
