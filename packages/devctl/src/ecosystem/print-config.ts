// Runs a service's built entry with `--print-config`, the service kit's dry run: it resolves and
// validates the configuration exactly as a start would (process > service .env > root .env >
// default), prints {service, variables} and exits 0, or exits 78 (EX_CONFIG) with one
// `{"devctl":"config-error",...}` line on stderr naming each variable at fault. devctl imports no
// service code; `devctl env`, `doctor` and the preflight of `devctl start` all go through here.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
export async function preflightConfig(services: ServiceEntry[], root: string): Promise<PreflightProblem[]> {
  const cache = new PassedChecks(root);
  const kitServices = services.filter(usesServiceKit);
  const keys = new Map(kitServices.map((service) => [service.name, checkKey(service, root)]));
  // A configuration that passed with exactly these inputs passes again: skip its dry run.
  const checked = kitServices.filter((s) => !cache.has(s.name, keys.get(s.name)));
  const results = await mapLimited(checked, PREFLIGHT_CONCURRENCY, (service) =>
    runPrintConfig(service, { timeoutMs: PREFLIGHT_TIMEOUT_MS }),
  );
  results.forEach((result, index) => {
    const service = checked[index] as ServiceEntry;
    if (result.code === 0 && result.printed) cache.set(service.name, keys.get(service.name));
  });
  cache.save();
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

/**
 * Everything a dry run's verdict depends on: the script (path, size, mtime: a build changes them),
 * its node flags, the whole environment PM2 would give it, and the .env files the kit reads.
 * Hashed: the cache holds no value of any variable.
 */
function checkKey(service: ServiceEntry, root: string): string | undefined {
  try {
    const script = resolve(service.cwd, service.script);
    const stat = statSync(script);
    const hash = createHash('sha256');
    hash.update(JSON.stringify([script, stat.size, stat.mtimeMs, nodeArgsOf(service.app)]));
    const env = { ...process.env, ...service.env };
    for (const name of Object.keys(env).sort()) hash.update(`\0${name}=${env[name]}`);
    // The kit reads <service>/.env and the .env of its repository root, an ancestor of the
    // service's folder (not always the ecosystem's root): every ancestor's .env is an input.
    const files = new Set([join(root, '.env')]);
    for (let dir = service.cwd; ; dir = dirname(dir)) {
      files.add(join(dir, '.env'));
      if (dirname(dir) === dir) break;
    }
    for (const file of files) {
      hash.update(`\0${file}\0`);
      if (existsSync(file)) hash.update(readFileSync(file));
    }
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The inputs of the last passing dry run of each service, in node_modules/.cache/devctl (like
 * turbo's cache: removed with node_modules, never committed). Only passes are kept: a refused
 * configuration is checked again every time.
 */
class PassedChecks {
  private readonly file: string;
  private readonly entries: Record<string, string>;
  private changed = false;

  constructor(root: string) {
    this.file = join(root, 'node_modules', '.cache', 'devctl', 'config-checks.json');
    let entries: Record<string, string> = {};
    try {
      entries = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      // No cache yet, or unreadable: check everything.
    }
    this.entries = entries;
  }

  has(name: string, key: string | undefined): boolean {
    return key !== undefined && this.entries[name] === key;
  }

  set(name: string, key: string | undefined): void {
    if (key === undefined) return;
    this.entries[name] = key;
    this.changed = true;
  }

  save(): void {
    if (!this.changed) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(this.entries)}\n`);
      renameSync(temporary, this.file);
    } catch {
      // A cache that cannot be written only costs the next dry run.
    }
  }
}
