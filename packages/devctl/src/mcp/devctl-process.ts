// The tools that change the stack (start, stop, restart) and `env` run the real devctl command as a
// child process with --json: those commands print their progress to stdout as they go, and stdout
// is the MCP protocol here. The child prints exactly the documented `--json` document, so the agent
// gets the same data as `devctl <command> --json`, with the same error messages.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIError } from '../errors';

/** bin/devctl.js of this package, found from this module (src/mcp/ in tests, dist/ when bundled). */
export function devctlBinPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    const bin = join(dir, 'bin', 'devctl.js');
    if (existsSync(bin)) return bin;
    dir = dirname(dir);
  }
  throw new CLIError(`devctl mcp: cannot find bin/devctl.js above ${fileURLToPath(import.meta.url)}`);
}

export interface DevctlRun {
  code: number | null;
  /** The `--json` document the command printed (its last stdout line), when it printed one. */
  json: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kills the command (the MCP request was cancelled, or the server is closing). */
  signal?: AbortSignal;
  timeoutMs: number;
  /** Called every few seconds while the command runs (progress notifications). */
  onTick?: (elapsedMs: number) => void;
}

const TICK_MS = 5000;
const running = new Set<ChildProcess>();

/** Kills every devctl command still running (the server is closing), by pid. */
export function killRunningCommands(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
}

function lastJsonLine(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      // Not the document; keep looking.
    }
  }
  return undefined;
}

/** Runs `devctl <args> --json` with this process's environment (DEVCTL_ROOT, PM2_HOME) and folder. */
export function runDevctl(args: string[], options: RunOptions): Promise<DevctlRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [devctlBinPath(), ...args, '--json'], {
      cwd: process.cwd(),
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const kill = (why: string) => {
      stderr += `\n${why}`;
      if (child.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
    };
    const timer = setTimeout(
      () => kill(`devctl mcp: stopped \`devctl ${args.join(' ')}\` after ${options.timeoutMs / 1000} s`),
      options.timeoutMs,
    );
    const ticker = options.onTick
      ? setInterval(() => options.onTick?.(Date.now() - started), TICK_MS)
      : undefined;
    const onAbort = () => kill('devctl mcp: the request was cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (code: number | null) => {
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      options.signal?.removeEventListener('abort', onAbort);
      running.delete(child);
      resolve({ code, json: lastJsonLine(stdout), stdout, stderr });
    };
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      finish(null);
    });
    child.once('close', finish);
  });
}

/**
 * The command's `--json` document, or a CLIError carrying the CLI's own message when it failed
 * before producing one (unknown service: exit 2; no PM2 daemon; a crash).
 */
export function documentOf(run: DevctlRun, command: string): Record<string, unknown> {
  const error = run.json?.error as { message?: string; exitCode?: number } | undefined;
  if (error?.message) {
    throw new CLIError(error.message, error.exitCode ?? 1, run.json?.error as Record<string, unknown>);
  }
  if (run.json) return run.json;
  const evidence = run.stderr.trim().split('\n').slice(-12).join('\n');
  throw new CLIError(
    `devctl ${command} exited with code ${run.code} without a JSON report${evidence ? `:\n${evidence}` : ''}\nnext: run pnpm devctl ${command} in a terminal to see the whole output`,
    1,
    { exitCode: run.code },
  );
}
