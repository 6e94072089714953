// Reads what the export needs to know about each backend, through the service kit as `devctl env`
// does (the built entry's `--print-config`), so there is no second list of variables. The dry runs
// happen in a clean room: a temporary folder with each service's dist/ and package.json, its
// node_modules linked (native addons), and no .env file, no .secrets/ -- the kit reads neither from
// the checkout, so the export sees only the schema and the ecosystem. The files it writes are then
// the same on every machine, and a developer's secret in a .env cannot reach them.
//
// Three dry runs per service: (1) with the ecosystem's env, for the variables and their defaults;
// (2) as deployed (NODE_ENV=production, the deployment's settings, no secret), where what the kit
// refuses as unset is what the deployment must provide; (3) the same with throwaway values for the
// required secrets, which must pass -- the generated environment is one the service accepts.
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EX_CONFIG, NAMESPACE_VARIABLE, PORT_OFFSET_VARIABLE } from '@repo/stack-contract';
import { readCache, writeCache } from '../cache';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { packageName } from '../ecosystem/index';
import {
  builtCodeHash,
  type ConfigProblemLine,
  mapLimited,
  nodeArgsOf,
  type PrintConfigResult,
  type PrintedConfig,
  runPrintConfig,
} from '../ecosystem/print-config';
import { DATABASE_URL, isSecretVariable, parseMemory, planDeployment } from './plan';
import type { ExportInput, ExportProblem, ExportService, SchemaVariable } from './types';

const DRY_RUN_TIMEOUT_MS = 30_000;
const CONCURRENCY = 3;
const DEFAULT_LISTEN_TIMEOUT_MS = 8000;
const DEFAULT_KILL_TIMEOUT_MS = 1600;

/** The packages a built entry imports by a static `import` (left out of the bundle), with their versions. */
export async function runtimePackagesOf(service: ServiceEntry, cache?: ExportCache): Promise<string[]> {
  // The scan reads only the built code: the same code lists the same packages (an esbuild pass
  // over a bundle costs about half a CPU-second). Versions are read fresh, they are a file each.
  const code = cache ? builtCodeHash(service) : undefined;
  const names = (code !== undefined && cache?.imports(code)) || (await importedPackagesOf(service));
  if (code !== undefined) cache?.setImports(code, names);
  return names.map((name) => {
    const manifest = join(service.cwd, 'node_modules', name, 'package.json');
    const version = existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version
      : undefined;
    return version ? `${name}@${version}` : name;
  });
}

/** The names of the packages a built entry imports by a static `import`, sorted. */
async function importedPackagesOf(service: ServiceEntry): Promise<string[]> {
  // Loaded only when an export runs (devctl's bundle keeps no runtime import()).
  const { build } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const entry = resolve(service.cwd, service.script);
  // esbuild parses the bundle and lists its imports: no regular expression over minified code.
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  });
  const names = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      // A require() or import() inside a bundled dependency may be optional (pg-native); a static
      // import fails the start without it.
      if (!imported.external || imported.kind !== 'import-statement') continue;
      if (imported.path.startsWith('node:') || imported.path.startsWith('.')) continue;
      const parts = imported.path.split('/');
      names.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
    }
  }
  return [...names].sort();
}

/** A dry run's answer as the export cache keeps it: the verdicts that follow from the inputs alone. */
interface KeptRun {
  code: number;
  stderr: string;
  printed?: PrintedConfig;
  problems?: ConfigProblemLine[];
  /** When it was last used, to keep the newest. */
  at: number;
}

const EXPORT_CACHE = 'export-checks.json';
/** Entries kept: a few variants (ecosystem edits) of each of the three dry runs of every service. */
const EXPORT_CACHE_LIMIT = 300;

/**
 * Export's dry runs and import scans, by a hash of everything they read, in
 * node_modules/.cache/devctl/export-checks.json: an export of an unchanged checkout runs no service.
 * A clean-room dry run reads only the built code, its package.json, its node flags, Node and the
 * environment the export gives it (no .env, no .secrets/, no shell variable: see cleanRoom), so
 * those are the key; unlike the checkout's dry runs, a refusal (exit 78) is kept too -- the
 * as-deployed run is refused by design, and the same inputs are refused the same way. A timeout or
 * a crash is never kept.
 */
export class ExportCache {
  private readonly runs: Record<string, KeptRun>;
  private readonly scans: Record<string, { names: string[]; at: number }>;
  private changed = false;

  constructor(private readonly root: string) {
    const stored = readCache(root, EXPORT_CACHE);
    this.runs = (stored?.runs as Record<string, KeptRun> | undefined) ?? {};
    this.scans = (stored?.imports as Record<string, { names: string[]; at: number }> | undefined) ?? {};
  }

  /** The key of a clean-room dry run of `service` (in the checkout) under exactly `env`. */
  runKey(service: ServiceEntry, env: NodeJS.ProcessEnv): string | undefined {
    const code = builtCodeHash(service);
    if (code === undefined) return undefined;
    try {
      const manifest = readFileSync(join(service.cwd, 'package.json'), 'utf8');
      const sorted = Object.keys(env)
        .sort()
        .map((name) => [name, env[name]]);
      return createHash('sha256')
        .update(
          JSON.stringify([code, manifest, service.script, nodeArgsOf(service.app), process.version, sorted]),
        )
        .digest('hex');
    } catch {
      return undefined;
    }
  }

  run(key: string | undefined): PrintConfigResult | undefined {
    const kept = key === undefined ? undefined : this.runs[key];
    if (!kept || typeof kept.code !== 'number') return undefined;
    kept.at = Date.now();
    this.changed = true;
    return {
      code: kept.code,
      stdout: '',
      stderr: kept.stderr,
      printed: kept.printed,
      problems: kept.problems,
    };
  }

  setRun(key: string | undefined, result: PrintConfigResult): void {
    if (key === undefined) return;
    const keep =
      (result.code === 0 && result.printed !== undefined) || (result.code === EX_CONFIG && result.problems);
    if (!keep || result.code === null) return;
    this.runs[key] = {
      code: result.code,
      stderr: result.stderr.split('\n').slice(-20).join('\n'),
      printed: result.printed,
      problems: result.problems,
      at: Date.now(),
    };
    this.changed = true;
  }

  imports(code: string): string[] | undefined {
    const kept = this.scans[code];
    return Array.isArray(kept?.names) ? kept.names : undefined;
  }

  setImports(code: string, names: string[]): void {
    this.scans[code] = { names, at: Date.now() };
    this.changed = true;
  }

  save(): void {
    if (!this.changed) return;
    const newest = <T extends { at: number }>(entries: Record<string, T>) =>
      Object.fromEntries(
        Object.entries(entries)
          .sort(([, a], [, b]) => b.at - a.at)
          .slice(0, EXPORT_CACHE_LIMIT),
      );
    // A cache that cannot be written only costs the next export its dry runs.
    writeCache(this.root, EXPORT_CACHE, { runs: newest(this.runs), imports: newest(this.scans) }, 0o600);
  }
}

/** A temporary copy of each service's built entry and manifest, with no .env anywhere above it. */
function cleanRoom(services: ServiceEntry[]): {
  root: string;
  entries: Map<string, ServiceEntry>;
  remove: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), 'devctl-export-'));
  // The kit takes the folder holding pnpm-workspace.yaml as the repository root (root .env, .secrets/).
  writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
  const entries = new Map<string, ServiceEntry>();
  for (const service of services) {
    const cwd = join(root, service.folder);
    const script = resolve(service.cwd, service.script);
    mkdirSync(cwd, { recursive: true });
    cpSync(dirname(script), join(cwd, dirname(service.script)), { recursive: true, dereference: true });
    cpSync(join(service.cwd, 'package.json'), join(cwd, 'package.json'));
    if (existsSync(join(service.cwd, 'node_modules'))) {
      symlinkSync(join(service.cwd, 'node_modules'), join(cwd, 'node_modules'), 'dir');
    }
    entries.set(service.name, { ...service, cwd });
  }
  return { root, entries, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Only what a process needs to start: no variable of the user's shell reaches the dry run. */
function bareEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
}

function describeFailure(service: string, stage: string, result: PrintConfigResult): ExportProblem {
  const lines = result.stderr
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('{'))
    .slice(-4);
  const problems = result.problems?.map((p) => `${p.name} ${p.message}`) ?? [];
  const evidence = (problems.length > 0 ? problems : lines).join('; ');
  const why =
    result.code === null ? `did not answer within ${DRY_RUN_TIMEOUT_MS / 1000} s` : `exited ${result.code}`;
  return {
    service,
    message: `its configuration could not be resolved ${stage}: --print-config ${why}${evidence ? ` (${evidence})` : ''}`,
  };
}

/**
 * A value the kit accepts for a secret it requires, used for the third dry run only, never written.
 * Derived from the name, not random: the run's inputs stay the same, so its answer can be cached.
 */
function throwawaySecret(name: string): string {
  const random = createHash('sha256').update(`devctl export check: ${name}`).digest('hex').slice(0, 48);
  return name === DATABASE_URL ? `postgres://export-check:${random}@postgres:5432/export-check` : random;
}

/**
 * The ecosystem as it is in a checkout's first block: a deployment has nothing to do with which
 * block of ports this checkout runs on (docs/side-by-side.md), so the documented ports, the
 * project's name, and an env without the block's variables.
 */
function asDeployed(ecosystem: Ecosystem): Ecosystem {
  const stack = ecosystem.stack;
  if (!stack) return ecosystem;
  const services = ecosystem.services.map((service) => {
    const port = service.port === undefined ? undefined : service.port - stack.offset;
    const env = Object.fromEntries(
      Object.entries(service.env).filter(
        ([name]) => name !== PORT_OFFSET_VARIABLE && name !== NAMESPACE_VARIABLE,
      ),
    );
    if (port !== undefined) env.PORT = String(port);
    return { ...service, port, env, namespace: stack.project };
  });
  return { ...ecosystem, namespace: stack.project, services };
}

/**
 * What the export needs to know about every backend of the ecosystem, read through the kit, or the
 * reasons it cannot (a service whose configuration does not resolve, or is refused once deployed).
 */
export async function readExportInput(
  checkout: Ecosystem,
): Promise<{ input: ExportInput; problems: ExportProblem[] }> {
  const ecosystem = asDeployed(checkout);
  const problems: ExportProblem[] = [];
  const services = ecosystem.services;
  for (const service of services) {
    if (service.port === undefined) {
      problems.push({
        service: service.name,
        message: 'has no PORT in its ecosystem env: nothing to route to',
      });
    }
    if (!existsSync(resolve(service.cwd, service.script))) {
      problems.push({
        service: service.name,
        message: `${join(service.folder, service.script)} does not exist (build it: pnpm build)`,
      });
    }
  }
  if (problems.length > 0) return { input: { namespace: ecosystem.namespace, services: [] }, problems };

  const cache = new ExportCache(checkout.root);
  // Made on the first dry run the cache cannot answer: an unchanged checkout needs none.
  let room: ReturnType<typeof cleanRoom> | undefined;
  /** The clean-room dry run of `service` under `env`, or its answer to the same inputs before. */
  const dryRunOf = async (service: ServiceEntry, env: Record<string, string>): Promise<PrintConfigResult> => {
    const key = cache.runKey({ ...service, env }, { ...bareEnvironment(), ...env });
    const kept = cache.run(key);
    if (kept) return kept;
    room ??= cleanRoom(services);
    const entry = room.entries.get(service.name) as ServiceEntry;
    const result = await runPrintConfig(
      { ...entry, env },
      { timeoutMs: DRY_RUN_TIMEOUT_MS, env: bareEnvironment() },
    );
    cache.setRun(key, result);
    return result;
  };
  try {
    const described = await mapLimited(services, CONCURRENCY, async (service) => {
      const dryRun = (env: Record<string, string>) => dryRunOf(service, env);

      // (1) The schema's variables with their defaults, under the ecosystem's env.
      const first = await dryRun(service.env);
      if (first.code !== 0 || !first.printed?.variables) {
        problems.push(describeFailure(service.name, 'from its schema and ecosystem.config.js', first));
        return undefined;
      }
      const variables: SchemaVariable[] = first.printed.variables.map((variable) => ({
        name: variable.name,
        value: variable.value,
        source: variable.source,
      }));
      const exportService: ExportService = {
        name: service.name,
        folder: service.folder,
        packageName: packageName(service) ?? service.name,
        port: service.port as number,
        dependsOn: [...service.dependsOn],
        script: service.script,
        nodeArgs: nodeArgsOf(service.app),
        instances: Number.isInteger(service.app.instances) ? Math.max(1, service.app.instances as number) : 1,
        maxMemoryBytes: parseMemory(service.app.max_memory_restart),
        listenTimeoutMs: Number(service.app.listen_timeout ?? DEFAULT_LISTEN_TIMEOUT_MS),
        killTimeoutMs: Number(service.app.kill_timeout ?? DEFAULT_KILL_TIMEOUT_MS),
        ecosystemEnv: { ...service.env },
        runtimePackages: await runtimePackagesOf(service, cache),
        variables,
        requiredInProduction: [],
      };
      return exportService;
    });
    const input: ExportInput = {
      namespace: ecosystem.namespace,
      services: described.filter((service): service is ExportService => service !== undefined),
    };
    if (problems.length > 0) return { input, problems };

    // (2) and (3): the environment the deployment gives each service, without and with its secrets.
    const { plan } = planDeployment(input);
    await mapLimited(plan.services, CONCURRENCY, async ({ service, settings, secrets }) => {
      const checkoutEntry = services.find((entry) => entry.name === service.name) as ServiceEntry;
      const dryRun = (env: Record<string, string>) => dryRunOf(checkoutEntry, env);
      const unset = await dryRun(settings);
      let required: string[] = [];
      if (unset.code !== 0) {
        required = (unset.problems ?? [])
          .filter((problem) => problem.message.startsWith('is required'))
          .map((problem) => problem.name);
        if (!unset.problems || required.length !== unset.problems.length) {
          problems.push(describeFailure(service.name, 'as deployed (NODE_ENV=production)', unset));
          return;
        }
      }
      service.requiredInProduction = required.sort();
      // A required plain setting with no value is refused by the plan, with its reason.
      if (!required.every(isSecretVariable)) return;
      const provided = new Set([...required, ...secrets.filter((s) => s.required).map((s) => s.name)]);
      if (provided.size === 0) return;
      const withSecrets = { ...settings };
      for (const name of provided) withSecrets[name] = throwawaySecret(name);
      const complete = await dryRun(withSecrets);
      if (complete.code !== 0) {
        problems.push(describeFailure(service.name, 'as deployed, with its secrets provided', complete));
      }
    });
    return { input, problems };
  } finally {
    cache.save();
    room?.remove();
  }
}
