// A real Vite dev server process for the browser tests: the frontend's own vite binary, on a free
// port (WEB_PORT), talking to the gateway given, killed by pid when the test ends.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type SpawnedProcess, spawnProcess, waitForHttp } from '@repo/test-utils';

export const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const viteBin = join(webDir, 'node_modules', 'vite', 'bin', 'vite.js');

export interface RunningVite {
  url: string;
  process: SpawnedProcess;
  stop: () => Promise<void>;
}

export async function startVite(options: { root?: string; gatewayUrl: string }): Promise<RunningVite> {
  const port = await freePort();
  const child = spawnProcess(process.execPath, [viteBin], {
    cwd: options.root ?? webDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      WEB_PORT: String(port),
      API_GATEWAY_URL: options.gatewayUrl,
    },
    name: 'vite dev server',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForHttp(`${url}/`, { timeoutMs: 60_000 }),
      child.exited.then(({ code }) => {
        throw new Error(`vite exited (code ${code}) before serving:\n${child.output()}`);
      }),
    ]);
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
  return { url, process: child, stop: () => child.kill('SIGTERM') };
}
