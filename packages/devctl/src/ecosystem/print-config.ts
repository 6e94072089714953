// Runs a service's built entry with `--print-config`, the service kit's dry run: it resolves and
// validates the configuration exactly as a start would (process > service .env > root .env >
// default), prints {service, variables} and exits 0, or exits 78 (EX_CONFIG) with one
// `{"devctl":"config-error",...}` line on stderr naming each variable at fault. devctl imports no
// service code; `devctl env`, `doctor` and the preflight of `devctl start` all go through here.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  type ConfigErrorVariable,
  EX_CONFIG,
  lastConfigErrorLine,
  NAMESPACE_VARIABLE,
  PORT_OFFSET_VARIABLE,
  PRINT_CONFIG_FLAG,
  type PrintedConfig,
  printedConfigOf,
} from '@repo/stack-contract';
import { readCache, writeCache } from '../cache';
import type { ServiceEntry } from './index';

export type { PrintedConfig, PrintedVariable } from '@repo/stack-contract';

/** One variable the service rejected (the kit's config-error line). */
export type ConfigProblemLine = ConfigErrorVariable;

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

/**
 * `node <node_args> <script> --print-config` in the service's folder, with the environment PM2 gives
 * it (devctl's own plus the app's env), killed after `timeoutMs`.
 */
export function runPrintConfig(
  service: ServiceEntry,
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<PrintConfigResult> {
  const script = resolve(service.cwd, service.script);
  if (!existsSync(script)) {
    return Promise.resolve({ code: null, stdout: '', stderr: `${script} does not exist` });
  }
  const child = spawn(process.execPath, [...nodeArgsOf(service.app), script, PRINT_CONFIG_FLAG], {
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
  const abort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });
  return new Promise((done) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ code: null, stdout, stderr: `${stderr}${error.message}\n` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      const printed = printedConfigOf(stdout);
      done({ code, stdout, stderr, printed, problems: lastConfigErrorLine(stderr)?.variables });
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

/** The verdict of one service's dry run. */
export interface DryRun {
  service: ServiceEntry;
  /** `passed` (exit 0, printed), `refused` (exit 78: the next start would stop on its config), `failed` (anything else). */
  outcome: 'passed' | 'refused' | 'failed';
  printed?: PrintedConfig;
  /** The variables at fault (refused). */
  problems?: ConfigProblemLine[];
  /** Exit code; null when it did not finish in time or could not run. */
  code: number | null;
  /** The last lines of stderr (refused or failed), for evidence. */
  stderr: string;
  /** The answer of an earlier pass with exactly the same inputs (no process run). */
  cached: boolean;
}

/**
 * The dry run of each kit service (`--print-config`), as its next start would read its
 * configuration: a pass with exactly the same inputs is taken from the cache, the others run at most
 * `concurrency` at once. Services without the kit are left out. `devctl start`'s preflight,
 * `diagnose`, `env` and `doctor` share this cache (node_modules/.cache/devctl/config-checks.json), so
 * a pass one command paid for is free for the next, in another process.
 */
export async function dryRunConfigs(
  services: ServiceEntry[],
  root: string,
  options: { timeoutMs?: number; concurrency?: number; signal?: AbortSignal } = {},
): Promise<DryRun[]> {
  const cache = new PassedChecks(root);
  const kitServices = services.filter(usesServiceKit);
  const runs = await mapLimited(
    // Cache hits first: they cost a hash, and do not wait behind the dry runs.
    kitServices
      .map((service) => ({ service, hit: cache.get(service) }))
      .sort((a, b) => Number(!a.hit) - Number(!b.hit)),
    options.concurrency ?? PREFLIGHT_CONCURRENCY,
    async ({ service, hit }): Promise<DryRun> => {
      // A configuration that passed with exactly these inputs passes again: skip its dry run.
      if (hit) return { service, outcome: 'passed', printed: hit, code: 0, stderr: '', cached: true };
      if (options.signal?.aborted) {
        return { service, outcome: 'failed', code: null, stderr: 'not checked: out of time', cached: false };
      }
      const result = await runPrintConfig(service, {
        timeoutMs: options.timeoutMs ?? PREFLIGHT_TIMEOUT_MS,
        signal: options.signal,
      });
      const stderr = result.stderr.trim().split('\n').filter(Boolean).slice(-3).join('\n');
      if (result.code === 0 && result.printed) {
        cache.set(service, result.printed);
        return { service, outcome: 'passed', printed: result.printed, code: 0, stderr: '', cached: false };
      }
      return {
        service,
        outcome: result.code === EX_CONFIG ? 'refused' : 'failed',
        problems: result.problems,
        code: result.code,
        stderr,
        cached: false,
      };
    },
  );
  cache.save();
  // In the order the services were given.
  return kitServices.map((service) => runs.find((run) => run.service === service) as DryRun);
}

/**
 * One service's `--print-config` under devctl's environment, as `runPrintConfig`, through the same
 * cache as `dryRunConfigs`: `devctl env` and `doctor` read a pass that start or diagnose paid for,
 * and leave theirs for them. A refusal or a failure is never cached.
 */
export async function printConfigCached(
  service: ServiceEntry,
  root: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<PrintConfigResult & { cached: boolean }> {
  const cache = new PassedChecks(root);
  const hit = cache.get(service);
  if (hit) return { code: 0, stdout: '', stderr: '', printed: hit, cached: true };
  const result = await runPrintConfig(service, options);
  if (result.code === 0 && result.printed) {
    cache.set(service, result.printed);
    cache.save();
  }
  return { ...result, cached: false };
}

/**
 * The configuration each kit service would refuse at start (exit 78), found by a dry run of each
 * before anything is launched. Other failures of the dry run (a crash, a timeout) are not reported
 * here: the start itself shows them with the service's log.
 */
export async function preflightConfig(services: ServiceEntry[], root: string): Promise<PreflightProblem[]> {
  const runs = await dryRunConfigs(services, root);
  return runs.flatMap(({ service, outcome, problems, stderr }) => {
    if (outcome !== 'refused') return [];
    if (!problems || problems.length === 0) {
      return [
        {
          service: service.name,
          field: 'config',
          message: `its configuration check exited ${EX_CONFIG}: ${stderr.split('\n').join(' | ')}`,
        },
      ];
    }
    return problems.map((problem) => ({
      service: service.name,
      field: problem.name in service.env ? `env.${problem.name}` : problem.name,
      message: `${problem.name} ${problem.message} (${problem.name in service.env ? 'set in ecosystem.config.js' : `set it in ${problem.file}`})`,
    }));
  });
}

/**
 * The hash of a service's built code: its entry script and, when the entry sits in a build folder
 * (dist/), every other script and JSON file under that folder (chunks, data it loads). By content,
 * not mtime: a copy of the same build (export's clean room, another checkout) is the same code, and a
 * rebuild that changes nothing changes nothing. Undefined when the entry is missing.
 */
export function builtCodeHash(service: ServiceEntry): string | undefined {
  try {
    const script = resolve(service.cwd, service.script);
    const hash = createHash('sha256');
    hash.update(readFileSync(script));
    const folder = dirname(script);
    if (folder === resolve(service.cwd)) return hash.digest('hex');
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        const path = join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== 'node_modules') walk(path);
        else if (entry.isFile() && path !== script && /\.(?:c|m)?js$|\.json$/.test(entry.name)) {
          hash.update(`\0${relative(folder, path)}\0`);
          hash.update(readFileSync(path));
        }
      }
    };
    walk(folder);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Variables the kit reads whatever its schema: the stack's port block and namespace move the
 * defaults of PORT, service URLs and DATABASE_SCHEMA (service-kit config.ts `stackDefault`), and
 * Node reads NODE_OPTIONS.
 */
const ALWAYS_READ = new Set([PORT_OFFSET_VARIABLE, NAMESPACE_VARIABLE, 'NODE_OPTIONS']);

/**
 * Everything a dry run's verdict depends on: the built code (by content), its node flags, Node's
 * version, the environment PM2 would give it, the .env files the kit reads and the development
 * secrets. Hashed: the key holds no value of any variable.
 */
function checkKey(service: ServiceEntry, root: string, names: string[] | undefined): string | undefined {
  try {
    const code = builtCodeHash(service);
    if (code === undefined) return undefined;
    const hash = createHash('sha256');
    hash.update(
      JSON.stringify([resolve(service.cwd, service.script), code, nodeArgsOf(service.app), process.version]),
    );
    const env = { ...process.env, ...service.env };
    // The kit reads only its schema's variables from the environment (and the few ALWAYS_READ):
    // once a pass printed those names, the rest of the shell (`_`, `PWD`, pnpm's npm_* and
    // NODE_PATH) need not match, so `pnpm devctl` and `node packages/devctl/bin/devctl.js` share it.
    // The ecosystem's env is keyed whole: it is the service's own, and an edit of it is a new start.
    const relevant = names ? new Set(names) : undefined;
    const keyed = Object.keys(env).filter(
      (name) => !relevant || relevant.has(name) || ALWAYS_READ.has(name) || Object.hasOwn(service.env, name),
    );
    hash.update(`\0names:${names ? [...names].sort().join(',') : '*'}`);
    for (const name of keyed.sort()) hash.update(`\0${name}=${env[name]}`);
    // The kit reads <service>/.env and the .env of its repository root (the nearest ancestor
    // holding pnpm-workspace.yaml, not always the ecosystem's root), and the development secrets
    // under that root's .secrets/: every ancestor's .env is an input, and each candidate root's
    // .secrets/ (the printed configuration carries the hash of the secret a shared setting falls
    // back to: a new secret there must not leave an old hash in the cache).
    const files = new Set([join(root, '.env')]);
    const secretDirs = new Set([join(root, '.secrets')]);
    for (let dir = service.cwd; ; dir = dirname(dir)) {
      files.add(join(dir, '.env'));
      if (existsSync(join(dir, 'pnpm-workspace.yaml'))) secretDirs.add(join(dir, '.secrets'));
      if (dirname(dir) === dir) break;
    }
    for (const file of files) {
      hash.update(`\0${file}\0`);
      if (existsSync(file)) hash.update(`present\0${readFileSync(file, 'utf8')}`);
    }
    for (const secrets of secretDirs) {
      if (!existsSync(secrets)) continue;
      for (const name of readdirSync(secrets).sort()) {
        const file = join(secrets, name);
        hash.update(`\0${file}\0`);
        if (statSync(file).isFile()) hash.update(readFileSync(file));
      }
    }
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The inputs of the last passing dry run of each service, with what it printed, in
 * node_modules/.cache/devctl (like turbo's cache: removed with node_modules, never committed). The
 * key is a hash; what is printed is the kit's masked output (secrets only as `****` and a short
 * hash). Only passes are kept: a refused configuration is checked again every time.
 */
class PassedChecks {
  private readonly entries: Record<string, unknown>;
  /** The services this command checked anew. */
  private readonly changed = new Set<string>();

  constructor(private readonly root: string) {
    // No cache yet, or unreadable: check everything.
    this.entries = readCache(root, CONFIG_CHECKS) ?? {};
  }

  /** What the pass with these inputs printed; undefined for a miss (or an entry of an older devctl). */
  get(service: ServiceEntry): PrintedConfig | undefined {
    const entry = this.entries[service.name] as { key?: string; printed?: PrintedConfig } | undefined;
    if (typeof entry !== 'object' || entry === null || !Array.isArray(entry.printed?.variables))
      return undefined;
    const names = entry.printed.variables.map((variable) => variable.name);
    const key = checkKey(service, this.root, names);
    return key !== undefined && entry.key === key ? entry.printed : undefined;
  }

  set(service: ServiceEntry, printed: PrintedConfig): void {
    const key = checkKey(
      service,
      this.root,
      (printed.variables ?? []).map((variable) => variable.name),
    );
    if (key === undefined) return;
    this.entries[service.name] = { key, printed };
    this.changed.add(service.name);
  }

  save(): void {
    if (this.changed.size === 0) return;
    // Another devctl may have saved since this one read: keep its entries, overwrite only ours.
    const merged = readCache(this.root, CONFIG_CHECKS) ?? {};
    for (const name of this.changed) merged[name] = this.entries[name];
    // A cache that cannot be written only costs the next dry run.
    writeCache(this.root, CONFIG_CHECKS, merged, 0o600);
  }
}

const CONFIG_CHECKS = 'config-checks.json';
