// The frontend in `devctl status` (trial 16: an agent told to check a fix in the browser found the
// web port in `devctl stacks` and nothing serving it, and lost three commands finding out). Real
// listeners on free ports, one run from the checkout's apps/web and one from elsewhere; the real bin
// against a checkout whose PM2 daemon is not running (status never starts one).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { freePort, type SpawnedProcess, spawnProcess, type TempDir, tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webStatus } from '../src/status/index';
import { webLine } from '../src/status/render';
import { devctlBin, parseJson, runCommand } from './fixtures/harness';

const LISTEN =
  "require('node:http').createServer((q, s) => s.end('page')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'))";

let checkout: TempDir;
let elsewhere: TempDir;
const listeners: SpawnedProcess[] = [];

async function listenFrom(cwd: string, port: number): Promise<SpawnedProcess> {
  const listener = spawnProcess(process.execPath, ['-e', LISTEN], {
    cwd,
    env: { PATH: process.env.PATH, PORT: String(port) },
  });
  listeners.push(listener);
  await listener.waitForOutput('listening', 15_000);
  return listener;
}

beforeAll(() => {
  checkout = tempDir('devctl-status-web-');
  elsewhere = tempDir('devctl-status-web-other-');
  mkdirSync(join(checkout.path, 'apps', 'web'), { recursive: true });
  mkdirSync(join(checkout.path, 'services', 'alpha'), { recursive: true });
  writeFileSync(join(checkout.path, 'package.json'), '{"name":"status-web","private":true}\n');
  writeFileSync(
    join(checkout.path, 'ecosystem.config.js'),
    `module.exports = ${JSON.stringify({ apps: [{ name: 'alpha-service', namespace: 'status-web', cwd: join(checkout.path, 'services', 'alpha'), script: 'server.js', env: { PORT: '1' } }] })};\n`,
  );
});

afterAll(async () => {
  await Promise.all(listeners.map((listener) => listener.kill('SIGKILL')));
  checkout?.cleanup();
  elsewhere?.cleanup();
});

describe('the frontend in devctl status', () => {
  it('a port nobody serves: not running, and the command that serves it', async () => {
    const port = await freePort();
    const web = webStatus(checkout.path, port);
    expect(web).toMatchObject({ folder: 'apps/web', port, listening: false, pid: null, ofCheckout: false });
    expect(stripVTControlCharacters(webLine(web))).toBe(
      `web (frontend, apps/web, not under PM2): not running; serve it on http://127.0.0.1:${port} with pnpm dev`,
    );
  });

  it("served from the checkout's apps/web: the URL and the pid", async () => {
    const port = await freePort();
    const listener = await listenFrom(join(checkout.path, 'apps', 'web'), port);
    const web = webStatus(checkout.path, port);
    expect(web).toMatchObject({ listening: true, pid: listener.pid, ofCheckout: true });
    expect(stripVTControlCharacters(webLine(web))).toBe(
      `web (frontend, apps/web, not under PM2): http://127.0.0.1:${port} served by pid ${listener.pid}`,
    );
  });

  it("held by a process of another folder: not this checkout's, and who holds it", async () => {
    const port = await freePort();
    const listener = await listenFrom(elsewhere.path, port);
    const web = webStatus(checkout.path, port);
    expect(web).toMatchObject({ listening: true, pid: listener.pid, ofCheckout: false });
    expect(stripVTControlCharacters(webLine(web))).toMatch(
      new RegExp(`not this checkout's: .*pid ${listener.pid}.*; pnpm dev says what to do$`),
    );
  });

  it("the bin: in the whole stack's status (text and --json), not in one service's; on WEB_PORT", async () => {
    const port = await freePort();
    const listener = await listenFrom(join(checkout.path, 'apps', 'web'), port);
    const home = tempDir('devctl-status-web-pm2-');
    try {
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PM2_HOME: home.path,
        DEVCTL_ROOT: checkout.path,
        WEB_PORT: String(port),
        NO_COLOR: '1',
      };
      const run = (...args: string[]) =>
        runCommand(process.execPath, [devctlBin, 'status', ...args], {
          env,
          cwd: checkout.path,
          timeoutMs: 60_000,
        });
      const text = await run();
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(
        `web (frontend, apps/web, not under PM2): http://127.0.0.1:${port} served by pid ${listener.pid}`,
      );
      const json = parseJson<{ web?: { port: number; listening: boolean; pid: number } }>(
        await run('--json'),
      );
      expect(json.web).toMatchObject({ port, listening: true, pid: listener.pid });
      const one = parseJson<{ web?: unknown }>(await run('alpha-service', '--json'));
      expect(one.web).toBeUndefined();
    } finally {
      home.cleanup();
    }
  });
});
