// `devctl dev` as a user runs it: the real CLI starting the real Vite dev server of apps/web, on a
// free port (WEB_PORT), against a gateway address that is either closed or a real HTTP server.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePorts,
  isAlive,
  processTree,
  type SpawnedProcess,
  spawnProcess,
  waitForHttp,
} from '@repo/test-utils';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..', '..');

let cliDir: string;

// The CLI bundled fresh from src/ (into node_modules/.cache, so its packages resolve), never a
// stale dist/ or one another test is rebuilding.
beforeAll(async () => {
  const cacheDir = join(packageDir, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  cliDir = mkdtempSync(join(cacheDir, 'devctl-dev-test-'));
  await build({
    absWorkingDir: packageDir,
    entryPoints: { main: 'src/main.ts' },
    outdir: cliDir,
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
});

afterAll(() => {
  if (cliDir) rmSync(cliDir, { recursive: true, force: true });
});

function runDev(env: Record<string, string>): SpawnedProcess {
  const child = spawnProcess(process.execPath, [join(cliDir, 'main.js'), 'dev'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DEVCTL_ROOT: repoRoot,
      NO_COLOR: '1',
      // The test's own stack registry (vitest.shared.ts): reading the ecosystem claims a block.
      DEVSTACK_STATE_DIR: process.env.DEVSTACK_STATE_DIR,
      DEVSTACK_FIRST_BLOCK: process.env.DEVSTACK_FIRST_BLOCK,
      ...env,
    },
    name: 'devctl dev',
  });
  onTestFinished(() => child.kill('SIGKILL'));
  return child;
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('devctl dev', () => {
  it('says in one line that api-gateway is down and how to start it, serves the frontend anyway, and exits with vite on SIGTERM', async () => {
    const [webPort, closedPort] = (await freePorts(2)) as [number, number];
    const devctl = runDev({ WEB_PORT: String(webPort), API_GATEWAY_URL: `http://127.0.0.1:${closedPort}` });

    const page = await (await waitForHttp(`http://127.0.0.1:${webPort}/`, { timeoutMs: 30_000 })).text();
    expect(page).toContain('<div id="root">');
    const line = `api-gateway is not running on http://127.0.0.1:${closedPort} — start the backends with: pnpm pm2:start`;
    expect(occurrences(devctl.output(), line)).toBe(1);
    expect(devctl.output()).not.toMatch(/api-gateway is not running[^\n]*\n[^\n]*api-gateway is not running/);

    // The page's /api calls reach the proxy, which says who is missing.
    const api = await fetch(`http://127.0.0.1:${webPort}/api/health`);
    expect(api.status).toBe(502);
    expect(await api.json()).toMatchObject({ upstream: 'api-gateway', code: 'ECONNREFUSED' });

    const tree = processTree(devctl.pid);
    expect(tree.length).toBeGreaterThan(1);
    devctl.child.kill('SIGTERM');
    const { code } = await devctl.exited;
    // Vite ends on SIGTERM with 128 + 15, and devctl passes its code on.
    expect(code).toBe(143);
    expect(tree.filter(isAlive)).toEqual([]);
  });

  it('prints no warning when the gateway answers /health, and proxies /api to it', async () => {
    const gateway = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(request.url === '/health' ? { status: 'ok' } : { seen: request.url }));
    });
    const gatewayPort = await listen(gateway);
    const [webPort] = (await freePorts(1)) as [number];
    const devctl = runDev({ WEB_PORT: String(webPort), API_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}` });

    await waitForHttp(`http://127.0.0.1:${webPort}/`, { timeoutMs: 30_000 });
    const api = await fetch(`http://127.0.0.1:${webPort}/api/forms?x=1`);
    expect(await api.json()).toEqual({ seen: '/api/forms?x=1' });
    expect(devctl.output()).not.toContain('api-gateway');

    const tree = processTree(devctl.pid);
    devctl.child.kill('SIGINT');
    const { code } = await devctl.exited;
    // Vite has no SIGINT handler: it dies of the signal, and devctl reports 128 + 2.
    expect(code).toBe(130);
    expect(tree.filter(isAlive)).toEqual([]);
  });

  it("refuses to start when the frontend's port is taken, naming the holder", async () => {
    const holder = createServer();
    const webPort = await listen(holder);
    const [closedPort] = (await freePorts(1)) as [number];
    const devctl = runDev({ WEB_PORT: String(webPort), API_GATEWAY_URL: `http://127.0.0.1:${closedPort}` });
    const { code } = await devctl.exited;
    expect(code).toBe(1);
    expect(devctl.output()).toContain(
      `devctl: the frontend's port ${webPort} is taken: port ${webPort} is held by pid ${process.pid}`,
    );
    expect(devctl.output()).toContain(`WEB_PORT=${webPort + 1} pnpm dev`);
  });
});
