// Real child processes for the kit's tests: a free port, and a Node process whose output is kept and
// which is killed (by PID) after each test that started it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { afterEach } from 'vitest';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
});

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** `node <args>` with only PATH and `env`; `ready` resolves on process.send('ready') (with ipc). */
export function spawnNode(args: string[], env: Record<string, string>, options: { ipc?: boolean } = {}) {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, ...env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => {
    stdout += c;
  });
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve) => child.on('message', (m) => m === 'ready' && resolve()));
  return { child, exited, ready, out: () => stdout, err: () => stderr };
}

const bundles = new Map<string, string>();

/**
 * The node arguments that run a TypeScript fixture: bundled once per test process with esbuild as a
 * service's build is (`service-build`: ESM, the kit from its TypeScript, a source map, so stack
 * traces name the .ts files), then run with plain node. Starting each fixture through tsx cost
 * ~1.3 CPU-s more per process (exit-trace and server start a dozen). The bundle sits under the
 * kit's node_modules/.cache so its external imports (fastify, pino) resolve from the kit.
 */
export function fixtureArgs(fixture: string): string[] {
  let bundle = bundles.get(fixture);
  if (!bundle) {
    // One file per fixture, rebuilt once per test process from the current sources; written aside
    // and renamed, so a process reading it while another rebuilds it sees a whole file (both are
    // built from the same sources).
    const cache = fileURLToPath(new URL('../node_modules/.cache/kit-test-fixtures/', import.meta.url));
    mkdirSync(cache, { recursive: true });
    bundle = join(cache, `${basename(fixture, extname(fixture))}.mjs`);
    const aside = join(cache, `${process.pid}-${basename(bundle)}`);
    buildSync({
      entryPoints: [fixture],
      outfile: aside,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      sourcemap: 'inline',
      packages: 'external',
      conditions: ['source'],
      // The fixture finds its folder and the repository from import.meta.url, as it does under tsx.
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(fixture).href) },
      logLevel: 'error',
    });
    renameSync(aside, bundle);
    bundles.set(fixture, bundle);
  }
  return ['--enable-source-maps', bundle];
}
