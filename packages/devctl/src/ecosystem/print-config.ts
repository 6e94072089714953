// Runs a service's built entry with `--print-config`, the service kit's dry run: it resolves and
// validates the configuration exactly as a start would (process > service .env > root .env >
// default), prints {service, variables} and exits 0, or exits 78 (EX_CONFIG) with one
// `{"devctl":"config-error",...}` line on stderr naming each variable at fault. devctl imports no
// service code; `devctl env`, `doctor` and the preflight of `devctl start` all go through here.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServiceEntry } from './index';

/** What --print-config printed on success (values masked by the kit; devctl masks again). */
export interface PrintedConfig {
  service?: string;
  variables?: { name: string; value: string | null; source: string }[];
}

/** One variable the service rejected (the kit's config-error line). */
export interface ConfigProblemLine {
  name: string;
  message: string;
  file: string;
}

export interface PrintConfigResult {
  /** Exit code; null when it did not finish in time or could not run. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The printed configuration (exit 0). */
  printed?: PrintedConfig;
  /** The variables at fault (exit 78). */
  problems?: ConfigProblemLine[];
}

/** EX_CONFIG: the kit's exit code for a configuration it refuses. */
export const EXIT_CONFIG = 78;

/** The node flags of the app (`node_args`), so the dry run loads the script as PM2 does. */
export function nodeArgsOf(app: Record<string, unknown>): string[] {
  const raw = app.node_args ?? app.nodeArgs ?? app.interpreter_args;
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === 'string' && raw.trim()) return raw.trim().split(/\s+/);
  return [];
}

/** True when the service's package depends on the service kit: only those know --print-config. */
export function usesServiceKit(service: ServiceEntry): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(service.cwd, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    return Object.hasOwn(pkg.dependencies ?? {}, '@repo/service-kit');
  } catch {
    return false;
  }
}

function lastJsonLine<T>(text: string, accept: (value: T) => boolean): T | undefined {
  for (const line of text.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as T;
      if (accept(value)) return value;
    } catch {
      // Not JSON: a log line.
    }
  }
  return undefined;
}

/**
 * `node <node_args> <script> --print-config` in the service's folder, with the environment PM2 gives
 * it (devctl's own plus the app's env), killed after `timeoutMs`.
 */
export function runPrintConfig(
  service: ServiceEntry,
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<PrintConfigResult> {
  const script = resolve(service.cwd, service.script);
  if (!existsSync(script)) {
    return Promise.resolve({ code: null, stdout: '', stderr: `${script} does not exist` });
  }
  const child = spawn(process.execPath, [...nodeArgsOf(service.app), script, '--print-config'], {
    cwd: service.cwd,
    env: { ...(options.env ?? process.env), ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  return new Promise((done) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ code: null, stdout, stderr: `${stderr}${error.message}\n` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const printed = lastJsonLine<PrintedConfig>(stdout, (value) => Array.isArray(value.variables));
      const configError = lastJsonLine<{ devctl?: string; variables?: ConfigProblemLine[] }>(
        stderr,
        (value) => value.devctl === 'config-error',
      );
      done({ code, stdout, stderr, printed, problems: configError?.variables });
    });
  });
}

/** Maps `items` with at most `limit` calls of `fn` running at once, keeping the order. */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Dry runs at once: each is a Node process loading a whole service. */
const PREFLIGHT_CONCURRENCY = 3;
const PREFLIGHT_TIMEOUT_MS = 30_000;

/** One variable a service refuses, as `devctl start` reports it before starting anything. */
export interface PreflightProblem {
  service: string;
  field: string;
  message: string;
}

/**
 * The configuration each kit service would refuse at start (exit 78), found by a dry run of each
 * before anything is launched. Other failures of the dry run (a crash, a timeout) are not reported
 * here: the start itself shows them with the service's log.
 */
export async function preflightConfig(services: ServiceEntry[]): Promise<PreflightProblem[]> {
  const checked = services.filter(usesServiceKit);
  const results = await mapLimited(checked, PREFLIGHT_CONCURRENCY, (service) =>
    runPrintConfig(service, { timeoutMs: PREFLIGHT_TIMEOUT_MS }),
  );
  return results.flatMap((result, index) => {
    const service = checked[index] as ServiceEntry;
    if (result.code !== EXIT_CONFIG) return [];
    if (!result.problems || result.problems.length === 0) {
      const said = result.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      return [
        { service: service.name, field: 'config', message: `its configuration check exited 78: ${said}` },
      ];
    }
    return result.problems.map((problem) => ({
      service: service.name,
      field: problem.name in service.env ? `env.${problem.name}` : problem.name,
      message: `${problem.name} ${problem.message} (${problem.name in service.env ? 'set in ecosystem.config.js' : `set it in ${problem.file}`})`,
    }));
  });
}
