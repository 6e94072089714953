import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPortUrl } from './helpers';

const serviceDir = new URL('..', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
});

/** The service's real entry (src/index.ts through tsx), as `pnpm dev:services` runs it. */
function startService(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'src/index.ts'], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  return { child, output: () => ({ stdout, stderr }) };
}

async function waitForHealth(url: string, child: ChildProcess): Promise<Response> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      return await fetch(`${url}/health`);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url}/health never answered`);
}

describe('auth-service as a process', () => {
  it('exits 78 (config error) naming JWT_SECRET when production gets a short one', async () => {
    const { child, output } = startService({ NODE_ENV: 'production', JWT_SECRET: 'too-short' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(output().stderr).toContain('config error in auth-service: JWT_SECRET has an invalid value');
    const machineLine = output().stderr.trim().split('\n').at(-1) as string;
    expect(JSON.parse(machineLine)).toMatchObject({ devctl: 'config-error', service: 'auth-service' });
  });

  it('listens on PORT, answers /health, reports data-service down in /ready, and stops on SIGTERM', async () => {
    const free = await closedPortUrl();
    const dataUrl = await closedPortUrl();
    const { child } = startService({
      NODE_ENV: 'test',
      JWT_SECRET: 'process-test-secret-process-test-secret',
      PORT: new URL(free).port,
      DATA_SERVICE_URL: dataUrl,
    });
    const health = await waitForHealth(free, child);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', service: 'auth-service', pid: child.pid });
    const ready = await fetch(`${free}/ready`);
    expect(ready.status).toBe(503);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
