// `devctl dev`: the frontend's Vite dev server with hot module reload, run directly (not under PM2:
// a dev server is an interactive tool, and its reloads are its own). The backends stay under PM2.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { join } from 'node:path';
import { loadEcosystem, WEB_FOLDER, webPortOf } from '../ecosystem/index';
import { CLIError } from '../errors';
import { c } from '../output/colors';
import { describeHolder, portHolder } from '../ports/holders';
import { probeHealth } from '../probe';

export interface DevOptions {
  /** Overrides for tests; by default the project found from the current folder. */
  root?: string;
}

const GATEWAY_PROBE_TIMEOUT_MS = 800;

/** Where the gateway is: API_GATEWAY_URL (as the Vite config reads it), else api-gateway's port in the ecosystem. */
export function gatewayUrl(env: NodeJS.ProcessEnv, ecosystemPort: number | undefined): URL {
  const raw = env.API_GATEWAY_URL || `http://127.0.0.1:${ecosystemPort ?? 3000}`;
  try {
    return new URL(raw);
  } catch {
    throw new CLIError(`API_GATEWAY_URL is not a URL: "${raw}" (expected e.g. http://127.0.0.1:3000)`);
  }
}

/** The gateway's port as a URL gives it (the default port of its scheme when none is written). */
function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** One line when the gateway does not answer its /health; null when it does. */
export async function gatewayWarning(url: URL): Promise<string | null> {
  const result = await probeHealth(portOf(url), {
    host: url.hostname,
    path: '/health',
    timeoutMs: GATEWAY_PROBE_TIMEOUT_MS,
  });
  if (result.ok) return null;
  const where = url.origin;
  // A refused connection means nothing listens: the usual case, and the one the line is about.
  if (result.statusCode === null && result.error === 'ECONNREFUSED') {
    return `api-gateway is not running on ${where} — start the backends with: pnpm pm2:start`;
  }
  return `api-gateway on ${where} is not healthy (${result.error}) — see why with: pnpm devctl diagnose`;
}

/** The JavaScript entry of the frontend's own Vite, run with this Node (no shell or .bin wrapper in between). */
function viteEntry(webDir: string): string {
  try {
    const require = createRequire(join(webDir, 'package.json'));
    return join(require.resolve('vite/package.json'), '..', 'bin', 'vite.js');
  } catch {
    throw new CLIError(`vite is not installed in ${webDir}; install the dependencies with: pnpm install`);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}

export async function runDev(options: DevOptions = {}): Promise<void> {
  const ecosystem = loadEcosystem(options.root);
  const webDir = join(ecosystem.root, WEB_FOLDER);
  if (!existsSync(join(webDir, 'package.json'))) {
    throw new CLIError(`no frontend in ${webDir} (devctl dev runs the Vite dev server of ${WEB_FOLDER})`);
  }
  const entry = viteEntry(webDir);

  // This checkout's web port (its block's: docs/side-by-side.md); WEB_PORT still wins.
  const webPort = webPortOf(ecosystem);
  const holder = portHolder(webPort, ecosystem.root);
  if (holder) {
    throw new CLIError(
      `the frontend's port ${webPort} is taken: ${describeHolder(holder)}. ` +
        (holder.pid ? `Stop it (kill ${holder.pid}) or ` : '') +
        `run on another port with: WEB_PORT=${webPort + 1} pnpm dev`,
    );
  }

  const gateway = gatewayUrl(process.env, ecosystem.services.find((s) => s.name === 'api-gateway')?.port);
  const warning = await gatewayWarning(gateway);
  if (warning) process.stderr.write(`${c.yellow(warning)}\n`);

  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: webDir,
    stdio: 'inherit',
    env: { ...process.env, API_GATEWAY_URL: gateway.href.replace(/\/$/, ''), WEB_PORT: String(webPort) },
  });

  // Ctrl-C in a terminal reaches the whole process group anyway; forwarding covers a parent that
  // signals devctl alone (turbo, a test, a process manager). Staying alive until the child exits
  // means its last output is never cut off.
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);

  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', (error) =>
        reject(new CLIError(`could not start vite (${entry}): ${error.message}`)),
      );
      child.once('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
    },
  ).finally(() => {
    for (const s of signals) process.off(s, forward);
  });

  // The shell's convention for a child ended by a signal: 128 + its number.
  process.exitCode = signal ? 128 + signalNumber(signal) : (code ?? 1);
}
