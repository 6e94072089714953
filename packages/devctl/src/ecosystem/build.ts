// Builds the services about to (re)start, so the code PM2 runs (their dist/) is the code on disk.
// With turbo at the repository root: `turbo run build --filter=<pkg>...` (the package and what it
// depends on, cached); otherwise each package's own `build` script.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIError } from '../errors';
import type { ServiceEntry } from './index';
import { packageName } from './index';

export interface BuildResult {
  /** What ran, e.g. `turbo run build --filter=@repo/data...`; null when nothing needed building. */
  command: string | null;
  packages: string[];
  elapsedMs: number;
  /** Packages turbo took from its cache, when it says. */
  cached: number | null;
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

function failure(what: string, names: string[], output: string): CLIError {
  const tail = output.trimEnd().split('\n').slice(-40).join('\n');
  return new CLIError(
    `build failed (${what}) for ${names.join(', ')}; nothing was (re)started. The build said:\n${tail}\n` +
      `Fix the error above, then run the command again (or skip the build with --no-build).`,
    1,
    { build: { command: what, output: tail } },
  );
}

/** Builds the packages of `services`; throws a CLIError with the build's output when it fails. */
export async function buildServices(root: string, services: ServiceEntry[]): Promise<BuildResult> {
  const started = performance.now();
  const buildable = services.filter(hasBuildScript);
  const packages = buildable.map((s) => packageName(s)).filter((name): name is string => Boolean(name));
  if (packages.length === 0) return { command: null, packages: [], elapsedMs: 0, cached: null };
  const turbo = join(root, 'node_modules', '.bin', 'turbo');
  if (existsSync(turbo)) {
    const args = ['run', 'build', ...packages.map((p) => `--filter=${p}...`), '--output-logs=errors-only'];
    const what = `turbo ${args.join(' ')}`;
    const { code, output } = await run(turbo, args, root);
    if (code !== 0)
      throw failure(
        what,
        buildable.map((s) => s.name),
        output,
      );
    const cachedMatch = /Cached:\s+(\d+) cached/.exec(output);
    return {
      command: what,
      packages,
      elapsedMs: Math.round(performance.now() - started),
      cached: cachedMatch ? Number(cachedMatch[1]) : null,
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
    throw failure(
      'pnpm run build',
      failed.map((r) => r.service.name),
      failed.map((r) => `[${r.service.name}]\n${r.output}`).join('\n'),
    );
  }
  return {
    command: 'pnpm run build',
    packages,
    elapsedMs: Math.round(performance.now() - started),
    cached: null,
  };
}
