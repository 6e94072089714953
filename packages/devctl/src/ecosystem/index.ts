import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { CLIError, usageError } from '../errors';
import { loadRotateConfig, RotateConfigError } from '../logrotate/config';

/** The PM2 name of devctl's log rotator (a tool app; its env is checked before anything starts). */
export const LOG_ROTATOR_NAME = 'devctl-logrotate';

/** One backend as ecosystem.config.js declares it. */
export interface ServiceEntry {
  /** PM2 name, e.g. `form-service`. */
  name: string;
  namespace: string;
  /** Absolute working directory (the service's package folder). */
  cwd: string;
  /** Repository-relative folder, e.g. `services/form`. */
  folder: string;
  script: string;
  port: number | undefined;
  outFile: string;
  errorFile: string;
  dependsOn: string[];
  env: Record<string, string>;
  /** `tool` for an app marked `devctl_role: 'tool'` (see TOOL_ROLE); every other app is a service. */
  kind: 'service' | 'tool';
  /** The raw app object, as PM2 gets it. */
  app: Record<string, unknown>;
}

/**
 * The mark of an app that is not a service: `devctl_role: 'tool'` (the log rotator). A tool has no
 * port and no /health; devctl starts it with the stack and stops it with `stop all`, lists it in
 * status, but never builds, probes, diagnoses or scaffolds it.
 */
export const TOOL_ROLE = 'tool';

export interface Ecosystem {
  /** Repository root (the folder of ecosystem.config.js). */
  root: string;
  file: string;
  namespace: string;
  services: ServiceEntry[];
  /** Apps marked `devctl_role: 'tool'` (see TOOL_ROLE), in the file's order. */
  tools: ServiceEntry[];
}

/** The folder holding ecosystem.config.js: DEVCTL_ROOT, else the nearest one above `from`. */
export function findProjectRoot(from = process.cwd()): string {
  if (process.env.DEVCTL_ROOT) return resolve(process.env.DEVCTL_ROOT);
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'ecosystem.config.js'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new CLIError(
        `no ecosystem.config.js found in ${from} or any folder above it; run devctl inside the project (or set DEVCTL_ROOT)`,
      );
    }
    dir = parent;
  }
}

/** Reads ecosystem.config.js exactly as PM2 does (CommonJS `require`), fresh on every call. */
export function loadEcosystem(root = findProjectRoot()): Ecosystem {
  const file = join(root, 'ecosystem.config.js');
  const require = createRequire(file);
  let loaded: { apps?: Record<string, unknown>[] };
  try {
    delete require.cache[require.resolve(file)];
    loaded = require(file);
  } catch (error) {
    throw new CLIError(`cannot load ${file}: ${(error as Error).message}`);
  }
  const apps = Array.isArray(loaded.apps) ? loaded.apps : [];
  const entries = apps.map((app): ServiceEntry => {
    const name = String(app.name);
    const cwd = resolve(root, String(app.cwd ?? '.'));
    const env = Object.fromEntries(
      Object.entries((app.env as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]),
    );
    const port = env.PORT ? Number(env.PORT) : undefined;
    return {
      name,
      namespace: String(app.namespace ?? 'default'),
      cwd,
      folder: relative(root, cwd),
      script: String(app.script ?? ''),
      port: Number.isInteger(port) ? port : undefined,
      outFile: resolve(cwd, String(app.out_file ?? join('logs', 'out.log'))),
      errorFile: resolve(cwd, String(app.error_file ?? join('logs', 'error.log'))),
      dependsOn: Array.isArray(app.depends_on) ? app.depends_on.map(String) : [],
      env,
      kind: app.devctl_role === TOOL_ROLE ? 'tool' : 'service',
      app,
    };
  });
  const services = entries.filter((entry) => entry.kind === 'service');
  const tools = entries.filter((entry) => entry.kind === 'tool');
  const namespace = (services[0] ?? tools[0])?.namespace ?? 'default';
  return { root, file, namespace, services, tools };
}

/** Services and tools: every app of the file. */
export function allApps(ecosystem: Ecosystem): ServiceEntry[] {
  return [...ecosystem.services, ...ecosystem.tools];
}

/**
 * The ecosystem entries named (the services for none or `all`); an unknown name is a usage error
 * (exit 2). With `tools`, a tool may be named too (e.g. `devctl logs devctl-logrotate`).
 */
export function resolveServices(
  ecosystem: Ecosystem,
  names: string[],
  options: { tools?: boolean } = {},
): ServiceEntry[] {
  const wanted = [...new Set(names.filter((name) => name !== 'all'))];
  if (wanted.length === 0) return ecosystem.services;
  const candidates = options.tools ? allApps(ecosystem) : ecosystem.services;
  const known = candidates.map((service) => service.name);
  const unknown = wanted.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const first = unknown[0] as string;
    const suggestion = known.length > 0 ? ` did you mean ${closest(first, known)}?` : '';
    throw usageError(
      `unknown service "${unknown.join('", "')}" in ${ecosystem.file};${suggestion} (services: ${known.join(', ') || 'none'})`,
      { unknown, known, suggestion: known.length > 0 ? closest(first, known) : null },
    );
  }
  return candidates.filter((service) => wanted.includes(service.name));
}

/** `services` plus everything they depend on, directly or not, in ecosystem order. */
export function withDependencies(ecosystem: Ecosystem, services: ServiceEntry[]): ServiceEntry[] {
  const byName = new Map(ecosystem.services.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  const visit = (service: ServiceEntry) => {
    if (wanted.has(service.name)) return;
    wanted.add(service.name);
    for (const dep of service.dependsOn) {
      const entry = byName.get(dep);
      if (entry) visit(entry);
    }
  };
  for (const service of services) visit(service);
  return ecosystem.services.filter((s) => wanted.has(s.name));
}

/**
 * The services in start order, grouped in waves: each wave depends only on earlier ones, so a wave's
 * services can start in parallel. Dependencies outside `services` are taken as already satisfied.
 */
export function dependencyWaves(services: ServiceEntry[]): ServiceEntry[][] {
  const names = new Set(services.map((s) => s.name));
  const placed = new Set<string>();
  const waves: ServiceEntry[][] = [];
  let left = [...services];
  while (left.length > 0) {
    const wave = left.filter((s) => s.dependsOn.every((dep) => !names.has(dep) || placed.has(dep)));
    if (wave.length === 0) {
      throw new CLIError(
        `ecosystem.config.js: depends_on forms a cycle between ${left.map((s) => s.name).join(', ')}; remove one of the dependencies`,
      );
    }
    for (const s of wave) placed.add(s.name);
    waves.push(wave);
    left = left.filter((s) => !placed.has(s.name));
  }
  return waves;
}

/** One problem in ecosystem.config.js: the entry and the field at fault. */
export interface EcosystemProblem {
  service: string;
  field: string;
  message: string;
}

/**
 * Checks what would make a start fail or act on the wrong thing: duplicate names or ports, a missing
 * cwd, an invalid PORT, unknown or cyclic depends_on. Also that the script
 * exists, for the services in `checkScriptsOf` (check after building: services run their built output).
 */
export function ecosystemProblems(
  ecosystem: Ecosystem,
  options: { checkScriptsOf?: ServiceEntry[] } = {},
): EcosystemProblem[] {
  // Tools are not built by devctl: their script must exist as the file declares it.
  const checkScripts = new Set([...(options.checkScriptsOf ?? []), ...ecosystem.tools].map((s) => s.name));
  const problems: EcosystemProblem[] = [];
  const seenNames = new Map<string, number>();
  const seenPorts = new Map<number, string>();
  const known = new Set(ecosystem.services.map((s) => s.name));
  for (const service of allApps(ecosystem)) {
    const { name } = service;
    if (!name || name === 'undefined') {
      problems.push({ service: '(unnamed)', field: 'name', message: 'an app has no name' });
      continue;
    }
    seenNames.set(name, (seenNames.get(name) ?? 0) + 1);
    if (seenNames.get(name) === 2)
      problems.push({ service: name, field: 'name', message: `the name ${name} is used twice` });
    if (service.namespace !== ecosystem.namespace) {
      problems.push({
        service: name,
        field: 'namespace',
        message: `namespace ${service.namespace} differs from ${ecosystem.namespace} (the first app's); devctl acts on one namespace, so it would never see this app`,
      });
    }
    if (name === LOG_ROTATOR_NAME) {
      try {
        loadRotateConfig(service.env);
      } catch (error) {
        if (!(error instanceof RotateConfigError)) throw error;
        const field = /^(LOGROTATE_\w+)/.exec(error.message)?.[1] ?? 'LOGROTATE';
        problems.push({ service: name, field: `env.${field}`, message: error.message });
      }
    }
    const rawPort = service.env.PORT;
    if (rawPort !== undefined && service.port === undefined) {
      problems.push({
        service: name,
        field: 'env.PORT',
        message: `PORT ${JSON.stringify(rawPort)} is not a port number`,
      });
    } else if (service.port !== undefined) {
      if (service.port < 1 || service.port > 65535) {
        problems.push({
          service: name,
          field: 'env.PORT',
          message: `PORT ${service.port} is outside 1-65535`,
        });
      }
      const other = seenPorts.get(service.port);
      if (other) {
        problems.push({
          service: name,
          field: 'env.PORT',
          message: `port ${service.port} is also used by ${other}`,
        });
      } else seenPorts.set(service.port, name);
    }
    if (!existsSync(service.cwd) || !statSync(service.cwd).isDirectory()) {
      problems.push({ service: name, field: 'cwd', message: `the folder ${service.cwd} does not exist` });
    } else if (!service.script) {
      problems.push({ service: name, field: 'script', message: 'no script is set' });
    } else if (checkScripts.has(name) && !existsSync(resolve(service.cwd, service.script))) {
      problems.push({
        service: name,
        field: 'script',
        message:
          service.kind === 'tool'
            ? `${join(service.folder, service.script)} does not exist (fix script or cwd of ${name} in ecosystem.config.js)`
            : `${join(service.folder, service.script)} does not exist (build it: pnpm devctl start ${name}, or pnpm --filter ${packageName(service) ?? name} build)`,
      });
    }
    for (const dep of service.dependsOn) {
      if (!known.has(dep)) {
        problems.push({
          service: name,
          field: 'depends_on',
          message: `depends on ${dep}, which is not in the ecosystem`,
        });
      }
    }
  }
  try {
    dependencyWaves(ecosystem.services.filter((s) => s.dependsOn.every((d) => known.has(d))));
  } catch (error) {
    problems.push({ service: '(several)', field: 'depends_on', message: (error as Error).message });
  }
  return problems;
}

/** Throws one CLIError listing every problem (entry and field), so nothing starts from a bad file. */
export function assertValidEcosystem(
  ecosystem: Ecosystem,
  options: { checkScriptsOf?: ServiceEntry[] } = {},
): void {
  const problems = ecosystemProblems(ecosystem, options);
  if (problems.length === 0) return;
  throw new CLIError(
    `${ecosystem.file} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}; nothing was started:\n${problems
      .map((p) => `  ${p.service}: ${p.field}: ${p.message}`)
      .join('\n')}`,
    1,
    { problems },
  );
}

/** The workspace package name of a service (`name` in <cwd>/package.json), for turbo --filter. */
export function packageName(service: ServiceEntry): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(service.cwd, 'package.json'), 'utf8')) as { name?: string };
    return pkg.name;
  } catch {
    return undefined;
  }
}
