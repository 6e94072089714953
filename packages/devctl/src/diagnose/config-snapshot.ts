// Each kit service's configuration as its next start would read it: the same dry run
// (`--print-config`) and cache as the preflight of `devctl start`, run concurrently, with where each
// variable is set (file and line) and when its .env files last changed. The config detectors
// (config-consistency, config-on-disk) read this; values arrive masked from the kit, secrets only as
// a short hash, and nothing here prints a value.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ECOSYSTEM_FILE, isServiceUrlVariable } from '@repo/stack-contract';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { type DryRun, dryRunConfigs, type PrintedVariable } from '../ecosystem/print-config';

/** Where a variable's value comes from: a repository-relative file and line, or a description. */
export interface Place {
  /** `services/auth/.env`, `.env`, `ecosystem.config.js`, `services/auth/src/config.ts`, or `devctl's environment`. */
  file: string;
  /** 1-based; null when the file does not say (the shell environment) or the line was not found. */
  line: number | null;
}

export interface ResolvedVariable extends PrintedVariable {
  place: Place;
}

/**
 * A setting someone chose, not the stack's: set in a .env file, or in the app's env in
 * ecosystem.config.js -- there, other than the wiring the file gives every service (its PORT,
 * NODE_ENV, the URLs of the services it calls) -- to a value other than the schema's default.
 * Trial 19: JWT_TTL '1m' in auth-service's env in ecosystem.config.js expired every token after a
 * minute, and diagnose said no setting was set "in a .env file: all are defaults".
 */
export function setByUser(variable: ResolvedVariable): boolean {
  if (variable.value === variable.default) return false;
  if (variable.source.endsWith('.env')) return true;
  return (
    variable.source === 'process' &&
    variable.place.file === ECOSYSTEM_FILE &&
    !WIRING.has(variable.name) &&
    !isServiceUrlVariable(variable.name)
  );
}

const WIRING = new Set(['PORT', 'NODE_ENV', 'HOST']);

export interface ServiceConfig {
  service: string;
  variables: Map<string, ResolvedVariable>;
}

export interface EnvFile {
  /** Repository-relative. */
  file: string;
  mtimeMs: number;
}

export interface ConfigSnapshot {
  /** One dry run per kit service looked at. */
  runs: DryRun[];
  /** The configuration of each service whose dry run passed. */
  configs: Map<string, ServiceConfig>;
  /** The .env files each service reads at start that exist now, with their last change. */
  envFiles: Map<string, EnvFile[]>;
  /** How long the dry runs took, and how many came from the cache. */
  elapsedMs: number;
}

/**
 * The dry runs must not hold diagnose: past this (all of them together) the ones still running are
 * killed and their services reported as not checked. A pass is cached as soon as it ends, so a
 * loaded machine checks more on each run. After `devctl start` (whose preflight fills the cache)
 * only a changed input costs a dry run.
 */
const DRY_RUN_BUDGET_MS = 10_000;

export const placeText = (place: Place) => (place.line === null ? place.file : `${place.file}:${place.line}`);

// Lines already read, by path. The MCP server and the dashboard run diagnose again and again in one
// process while the user edits .env files and ecosystem.config.js: lines are reused only while the
// file keeps the size and mtime it was read at (a stat, not a read), so a fixed line is seen at once.
const lineCache = new Map<string, { lines: string[]; size: number; mtimeMs: number }>();

function linesOf(root: string, file: string): string[] {
  const path = join(root, file);
  let stat: { size: number; mtimeMs: number };
  try {
    stat = statSync(path);
  } catch {
    lineCache.delete(path);
    return [];
  }
  const cached = lineCache.get(path);
  if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.lines;
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
  lineCache.set(path, { lines, size: stat.size, mtimeMs: stat.mtimeMs });
  return lines;
}

/** The 1-based line of the first line matching `pattern`, or null. */
function findLine(root: string, file: string, pattern: RegExp, from = 0): number | null {
  const index = linesOf(root, file).findIndex((line, i) => i >= from && pattern.test(line));
  return index === -1 ? null : index + 1;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where the variable that the kit resolved from `source` is set, with its line. */
export function placeOf(root: string, entry: ServiceEntry, name: string, source: string): Place {
  const assignment = new RegExp(`^\\s*(export\\s+)?${escapeRegExp(name)}\\s*=`);
  if (source === 'service .env') {
    const file = `${entry.folder}/.env`;
    return { file, line: findLine(root, file, assignment) };
  }
  if (source === 'root .env') return { file: '.env', line: findLine(root, '.env', assignment) };
  if (source === 'process') {
    if (!(name in entry.env)) return { file: "devctl's environment (the shell)", line: null };
    // The app's entry in ecosystem.config.js, then the variable's key after it (or anywhere).
    const file = 'ecosystem.config.js';
    const app = findLine(root, file, new RegExp(`['"\`]${escapeRegExp(entry.name)}['"\`]`));
    const key = new RegExp(`\\b${escapeRegExp(name)}['"]?\\s*:`);
    return { file, line: findLine(root, file, key, app ?? 0) ?? findLine(root, file, key) ?? app };
  }
  // The schema's default: the field in the service's config.ts, or the kit's base schema call.
  const file = `${entry.folder}/src/config.ts`;
  return {
    file,
    line:
      findLine(root, file, new RegExp(`\\b${escapeRegExp(name)}\\s*:`)) ??
      (name === 'PORT' ? findLine(root, file, /baseConfigSchema\(/) : null),
  };
}

function envFilesOf(ecosystem: Ecosystem, entry: ServiceEntry): EnvFile[] {
  const files: EnvFile[] = [];
  for (const file of [`${entry.folder}/.env`, '.env']) {
    try {
      files.push({ file, mtimeMs: statSync(join(ecosystem.root, file)).mtimeMs });
    } catch {
      // No such file: nothing to be older than.
    }
  }
  return files;
}

/** Dry-runs every kit service of `services` (cached passes cost a hash of their inputs). */
export async function collectConfig(ecosystem: Ecosystem, services: ServiceEntry[]): Promise<ConfigSnapshot> {
  const started = Date.now();
  lineCache.clear();
  const runs = await dryRunConfigs(services, ecosystem.root, {
    timeoutMs: DRY_RUN_BUDGET_MS,
    signal: AbortSignal.timeout(DRY_RUN_BUDGET_MS),
  });
  const configs = new Map<string, ServiceConfig>();
  for (const run of runs) {
    if (run.outcome !== 'passed' || !run.printed?.variables) continue;
    const variables = new Map<string, ResolvedVariable>();
    for (const variable of run.printed.variables) {
      variables.set(variable.name, {
        ...variable,
        place: placeOf(ecosystem.root, run.service, variable.name, variable.source),
      });
    }
    configs.set(run.service.name, { service: run.service.name, variables });
  }
  const envFiles = new Map(services.map((entry) => [entry.name, envFilesOf(ecosystem, entry)]));
  return { runs, configs, envFiles, elapsedMs: Date.now() - started };
}

/** The line `diagnose` adds to what it checked, e.g. for `stack healthy`. */
export function configCheckedLine(config: ConfigSnapshot): string {
  const cached = config.runs.filter((run) => run.cached).length;
  const failed = config.runs.filter((run) => run.outcome === 'failed').map((run) => run.service.name);
  return `configuration as the next start reads it (--print-config): ${config.runs.length} service${config.runs.length === 1 ? '' : 's'} (${cached} from the cache) in ${config.elapsedMs} ms; shared settings, service URLs and .env changes compared${
    failed.length > 0 ? `; not checked (the dry run failed): ${failed.join(', ')}` : ''
  }`;
}
