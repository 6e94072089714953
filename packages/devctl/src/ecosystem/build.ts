// Builds the services about to (re)start, so the code PM2 runs (their dist/) is the code on disk.
// With turbo at the repository root: `turbo run build --filter=<pkg>...` (the package and what it
// depends on, cached); otherwise each package's own `build` script.
//
// A build that fails is a finding, not a dump of the bundler's output: each service is checked
// again through esbuild's API with the options service-build uses (packages/service-kit/bin/
// service-build.mjs), which gives structured errors -- the message, the file, line and column, the
// source line -- and the next step follows from them (a package not installed, one not declared).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { BuildFailure, BuildOptions, Message } from 'esbuild';
import { CLIError } from '../errors';
import type { ServiceEntry } from './index';
import { packageName } from './index';

/** One reason a service's sources do not build. */
export interface BuildProblem {
  service: string;
  /** esbuild's message, e.g. `Could not resolve "left-pad"`. */
  message: string;
  /** Repository-relative file, 1-based line and column; null when esbuild gives none. */
  location: { file: string; line: number; column: number } | null;
  /** The source line, when known. */
  lineText: string | null;
  /** The next step: a command, or the file to fix. */
  next: string;
}

export interface BuildResult {
  /** What ran, e.g. `turbo run build --filter=@repo/data...`; null when nothing needed building. */
  command: string | null;
  packages: string[];
  elapsedMs: number;
  /** Build tasks turbo took from its cache, when it says. */
  cached: number | null;
  /** Build tasks turbo ran or took from its cache (the services and what they depend on), when it says. */
  tasks?: number | null;
}

function hasBuildScript(service: ServiceEntry): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(service.cwd, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    return Boolean(pkg.scripts?.build);
  } catch {
    return false;
  }
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0', TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) => resolve({ code: 127, output: `${output}${error.message}\n` }));
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

interface Manifest {
  name?: string;
  exports?: unknown;
  main?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function manifestOf(service: ServiceEntry): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(service.cwd, 'package.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** Packages service-build leaves to Node even in a bundle (they load a native addon). */
const NATIVE_PACKAGES = ['@libsql/client', 'pg-native'];

/** True when the package builds with service-build (esbuild): only then does the check mirror it. */
function bundlesWithEsbuild(manifest: Manifest | undefined): manifest is Manifest {
  return /\b(service-build|esbuild)\b/.test(manifest?.scripts?.build ?? '');
}

/** The esbuild options of service-build for this package, without writing anything. */
function checkOptions(service: ServiceEntry, manifest: Manifest): BuildOptions {
  const script = manifest.scripts?.build ?? '';
  const entries = script
    .split(/\s+/)
    .filter((word) => /\.(m|c)?[jt]sx?$/.test(word) && !word.includes('service-build'));
  const isLibrary = manifest.exports !== undefined || manifest.main !== undefined;
  return {
    absWorkingDir: service.cwd,
    entryPoints: entries.length > 0 ? entries : ['src/index.ts'],
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'silent',
    ...(isLibrary
      ? { packages: 'external' as const }
      : { external: NATIVE_PACKAGES, conditions: ['source'] }),
  };
}

/** The bare package name of an import: `@scope/name/sub` -> `@scope/name`; undefined for paths. */
export function packageOfImport(specifier: string): string | undefined {
  if (/^(\.|\/|node:|#)/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function nextStep(
  service: ServiceEntry,
  manifest: Manifest,
  message: string,
  where: string,
  command: string,
): string {
  const retry = `then devctl ${command} ${service.name}${command === 'restart' ? ' --wait' : ''}`;
  const unresolved = /Could not resolve "([^"]+)"/.exec(message)?.[1];
  if (unresolved) {
    const pkg = packageOfImport(unresolved);
    if (pkg) {
      const declared = [
        manifest.dependencies,
        manifest.devDependencies,
        manifest.peerDependencies,
        manifest.optionalDependencies,
      ].some((deps) => deps && pkg in deps);
      return declared
        ? `pnpm install (${pkg} is declared in ${join(service.folder, 'package.json')} but not installed), ${retry}`
        : `pnpm --filter ${manifest.name ?? packageName(service) ?? service.name} add ${pkg} (or fix the import at ${where}), ${retry}`;
    }
    return `fix the import path at ${where} (no such file), ${retry}`;
  }
  return `fix ${where}, ${retry}`;
}

function toProblem(
  root: string,
  service: ServiceEntry,
  manifest: Manifest,
  message: Message,
  command: string,
): BuildProblem {
  const where = message.location;
  const location = where
    ? { file: relative(root, join(service.cwd, where.file)), line: where.line, column: where.column + 1 }
    : null;
  const whereText = location ? `${location.file}:${location.line}:${location.column}` : service.folder;
  return {
    service: service.name,
    message: message.text,
    location,
    lineText: where?.lineText?.trim() || null,
    next: nextStep(service, manifest, message.text, whereText, command),
  };
}

type Esbuild = typeof import('esbuild');

/** esbuild, loaded only when a build is checked (devctl's bundle keeps no runtime import()). */
export function loadEsbuild(): Esbuild {
  return createRequire(import.meta.url)('esbuild') as Esbuild;
}

function problemsOf(
  root: string,
  service: ServiceEntry,
  manifest: Manifest,
  error: unknown,
  command: string,
): BuildProblem[] {
  const errors = (error as Partial<BuildFailure>).errors;
  if (!Array.isArray(errors)) {
    return [
      {
        service: service.name,
        message: (error as Error).message?.split('\n')[0] ?? String(error),
        location: null,
        lineText: null,
        next: `pnpm --filter ${manifest.name ?? service.name} build (to see the whole output)`,
      },
    ];
  }
  return errors.map((message) => toProblem(root, service, manifest, message, command));
}

/** Why `service`'s sources do not build (esbuild, in memory, ~30 ms); [] when they build. */
export async function checkBuild(
  root: string,
  service: ServiceEntry,
  command: 'start' | 'restart' = 'restart',
): Promise<BuildProblem[]> {
  const manifest = manifestOf(service);
  if (!bundlesWithEsbuild(manifest)) return [];
  const esbuild = loadEsbuild();
  try {
    await esbuild.build(checkOptions(service, manifest));
    return [];
  } catch (error) {
    return problemsOf(root, service, manifest, error, command);
  }
}

/** checkBuild, synchronously (for diagnose's detectors, which are synchronous). */
export function checkBuildSync(
  root: string,
  service: ServiceEntry,
  esbuild: Esbuild = loadEsbuild(),
): BuildProblem[] {
  const manifest = manifestOf(service);
  if (!bundlesWithEsbuild(manifest)) return [];
  try {
    esbuild.buildSync(checkOptions(service, manifest));
    return [];
  } catch (error) {
    return problemsOf(root, service, manifest, error, 'restart');
  }
}

/** The newest modification time of the sources under `folder` (node_modules and dist aside), and how many files there are. */
function newestSource(folder: string, limit = 2000): { newest: number; files: number } {
  let newest = 0;
  let seen = 0;
  let files = 0;
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (seen++ > limit || entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        try {
          newest = Math.max(newest, statSync(path).mtimeMs);
          files++;
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(folder);
  return { newest, files };
}

/**
 * Whether the service's build output is missing or older than its sources (its own src/ and
 * package.json, and the src/ of the workspace packages it declares): the sources changed since the
 * last build that succeeded, so they may not build. Cheap (file times only), so diagnose runs the
 * esbuild check only then. With a signature of what it looked at (build time, newest source time,
 * file count): a check that passed for one signature need not run again. Undefined when the package
 * has no build script.
 */
export function sourceState(
  root: string,
  service: ServiceEntry,
): { newer: boolean; signature: string } | undefined {
  const manifest = manifestOf(service);
  if (!manifest?.scripts?.build) return undefined;
  let built = 0;
  try {
    built = statSync(join(service.cwd, service.script)).mtimeMs;
  } catch {
    // no build output: newer than nothing
  }
  const folders = [join(service.cwd, 'src')];
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (!name.startsWith('@repo/')) continue;
    const folder = join(root, 'packages', name.slice('@repo/'.length), 'src');
    if (existsSync(folder)) folders.push(folder);
  }
  let manifestTime = 0;
  try {
    manifestTime = statSync(join(service.cwd, 'package.json')).mtimeMs;
  } catch {
    // no manifest: no build script either
  }
  const sources = folders.map((folder) => newestSource(folder));
  const newest = Math.max(manifestTime, ...sources.map((source) => source.newest));
  const files = sources.reduce((sum, source) => sum + source.files, 0);
  return { newer: built === 0 || newest > built, signature: `${built}:${newest}:${files}` };
}

const MAX_PROBLEMS_SHOWN = 3;

/** At most a dozen lines: each problem's place, message, source line and next step. */
export function renderBuildProblems(problems: BuildProblem[]): string {
  const lines: string[] = [];
  for (const problem of problems.slice(0, MAX_PROBLEMS_SHOWN)) {
    const where = problem.location
      ? `${problem.location.file}:${problem.location.line}:${problem.location.column}`
      : problem.service;
    lines.push(`  ${problem.service}: ${where}: ${problem.message}`);
    if (problem.lineText) lines.push(`    ${problem.lineText.slice(0, 160)}`);
    lines.push(`    next: ${problem.next}`);
  }
  if (problems.length > MAX_PROBLEMS_SHOWN) {
    lines.push(`  ... and ${problems.length - MAX_PROBLEMS_SHOWN} more (devctl diagnose)`);
  }
  return lines.join('\n');
}

/** The last lines of a build's output, without stack frames (when esbuild found nothing itself). */
function outputTail(output: string): string {
  return output
    .trimEnd()
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line) && line.trim() !== '')
    .slice(-8)
    .map((line) => `  ${line.slice(0, 200)}`)
    .join('\n');
}

async function failure(
  root: string,
  what: string,
  failed: ServiceEntry[],
  output: string,
  command: 'start' | 'restart',
): Promise<CLIError> {
  const problems = (await Promise.all(failed.map((service) => checkBuild(root, service, command)))).flat();
  const names = [
    ...new Set(problems.length > 0 ? problems.map((p) => p.service) : failed.map((s) => s.name)),
  ];
  const verb = command === 'start' ? 'started' : 'restarted';
  const head = `build failed for ${names.join(', ')}${problems.length > 0 ? '' : ` (${what})`}; nothing was ${verb} (a running process keeps running):`;
  const body =
    problems.length > 0
      ? renderBuildProblems(problems)
      : `${outputTail(output)}\n  next: fix the error above, then devctl ${command} (or skip the build with --no-build)`;
  return new CLIError(`${head}\n${body}`, 1, { build: { command: what, problems } });
}

/** Builds the packages of `services`; throws a CLIError naming each build error when it fails. */
export async function buildServices(
  root: string,
  services: ServiceEntry[],
  command: 'start' | 'restart' = 'start',
): Promise<BuildResult> {
  const started = performance.now();
  const buildable = services.filter(hasBuildScript);
  const packages = buildable.map((s) => packageName(s)).filter((name): name is string => Boolean(name));
  if (packages.length === 0) return { command: null, packages: [], elapsedMs: 0, cached: null };
  const turbo = join(root, 'node_modules', '.bin', 'turbo');
  if (existsSync(turbo)) {
    const args = ['run', 'build', ...packages.map((p) => `--filter=${p}...`), '--output-logs=errors-only'];
    const what = `turbo ${args.join(' ')}`;
    const { code, output } = await run(turbo, args, root);
    if (code !== 0) throw await failure(root, what, buildable, output, command);
    const cachedMatch = /Cached:\s+(\d+) cached/.exec(output);
    const tasksMatch = /Tasks:\s+\d+ successful, (\d+) total/.exec(output);
    return {
      command: what,
      packages,
      elapsedMs: Math.round(performance.now() - started),
      cached: cachedMatch ? Number(cachedMatch[1]) : null,
      tasks: tasksMatch ? Number(tasksMatch[1]) : null,
    };
  }
  const results = await Promise.all(
    buildable.map(async (service) => ({
      service,
      ...(await run('pnpm', ['run', '--silent', 'build'], service.cwd)),
    })),
  );
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length > 0) {
    throw await failure(
      root,
      'pnpm run build',
      failed.map((r) => r.service),
      failed.map((r) => `[${r.service.name}]\n${r.output}`).join('\n'),
      command,
    );
  }
  return {
    command: 'pnpm run build',
    packages,
    elapsedMs: Math.round(performance.now() - started),
    cached: null,
  };
}
