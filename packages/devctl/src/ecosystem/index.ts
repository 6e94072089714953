import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  DependencyCycleError,
  dependencyWaves as dependencyOrder,
  ECOSYSTEM_FILE,
  readEcosystem,
  type StackApp,
  type StackEcosystem,
  withDependencies as withDependenciesOf,
} from '@repo/stack-contract';
import { closest } from 'fastest-levenshtein';
import { CLIError, usageError } from '../errors';
import { loadRotateConfig, RotateConfigError } from '../logrotate/config';

/** The PM2 name of devctl's log rotator (a tool app; its env is checked before anything starts). */
export const LOG_ROTATOR_NAME = 'devctl-logrotate';

/** One app of ecosystem.config.js, as the contract reads it (a service, or a tool: see TOOL_ROLE). */
export type ServiceEntry = StackApp;

export { TOOL_ROLE } from '@repo/stack-contract';

export type Ecosystem = StackEcosystem;

/** The folder holding ecosystem.config.js: DEVCTL_ROOT, else the nearest one above `from`. */
export function findProjectRoot(from = process.cwd()): string {
  if (process.env.DEVCTL_ROOT) return resolve(process.env.DEVCTL_ROOT);
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, ECOSYSTEM_FILE))) return dir;
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
  try {
    return readEcosystem(root);
  } catch (error) {
    throw new CLIError(`cannot load ${join(root, ECOSYSTEM_FILE)}: ${(error as Error).message}`);
  }
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
  return withDependenciesOf(ecosystem.services, services);
}

/**
 * The services in start order, grouped in waves: each wave depends only on earlier ones, so a wave's
 * services can start in parallel. Dependencies outside `services` are taken as already satisfied.
 */
export function dependencyWaves(services: ServiceEntry[]): ServiceEntry[][] {
  try {
    return dependencyOrder(services);
  } catch (error) {
    if (!(error instanceof DependencyCycleError)) throw error;
    throw new CLIError(
      `ecosystem.config.js: depends_on forms a cycle between ${error.names.join(', ')}; remove one of the dependencies`,
    );
  }
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

/** The frontend's folder, relative to the project root: `devctl dev` runs its Vite dev server (not under PM2). */
export const WEB_FOLDER = 'apps/web';
/** The frontend's port when the ecosystem gives no stack (a hand-written ecosystem.config.js). */
export const DEFAULT_WEB_PORT = 5173;

/** The frontend's port: WEB_PORT (as `pnpm dev` reads it), else this checkout's block's, else 5173. */
export function webPortOf(ecosystem: Ecosystem, env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.WEB_PORT || ecosystem.stack?.web || DEFAULT_WEB_PORT);
}
