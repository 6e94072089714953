// `devctl new service <name> [--port N] [--depends-on a,b] [--route /api/<x> [--auth bearer|public]]`:
// services/<name> from the service kit, registered in ecosystem.config.js (one `service(...)` line),
// in the gateway's registry (its /api/health and URL variable; with --route, the forwarded prefix),
// and in every other list of the services (service-lists.ts: the docs' tables, the whole-stack test
// packages), so no list is left stale. Everything is checked before anything is written, and a
// failure while writing undoes what was written.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { serviceUrlVariable } from '@repo/stack-contract';
import { closest } from 'fastest-levenshtein';
import { type Ecosystem, loadEcosystem } from '../ecosystem/index';
import { CLIError, usageError } from '../errors';
import { c } from '../output/colors';
import { describeHolder, portHolder } from '../ports/holders';
import { EcosystemShapeError, formatServiceLine, insertServiceLine } from '../scaffold/ecosystem-text';
import {
  appendEnvExample,
  GATEWAY_ENV_EXAMPLE,
  type GeneratedRouteEntry,
  handWrittenApiSegments,
  insertGeneratedRoute,
  parseGeneratedRoutes,
  prefixesOverlap,
  REGISTRY_FILE,
  ROUTE_PREFIX,
  type RouteAuth,
} from '../scaffold/gateway-text';
import { assertServiceName, serviceNames } from '../scaffold/names';
import { canListen, pickPort, RESERVED_PORTS } from '../scaffold/ports';
import { type ServiceSpec, serviceFiles } from '../scaffold/service-files';
import {
  addServiceRow,
  addWorkspaceDevDependency,
  DOC_FILES,
  servicePackages,
  stackTestPackages,
} from '../scaffold/service-lists';

export interface NewServiceOptions {
  name: string;
  port?: number;
  /** PM2 names of the services it calls, started before it. */
  dependsOn: string[];
  /** A gateway prefix such as /api/billing. */
  route?: string;
  /** Who may call the route: bearer (a valid JWT, the default) or public. */
  auth?: RouteAuth;
  json: boolean;
}

/** The `--json` answer of `devctl new service`. */
export interface NewServiceResult {
  service: {
    name: string;
    pm2Name: string;
    package: string;
    folder: string;
    port: number;
    url: string;
    dependsOn: string[];
    route: string | null;
    /** The route's access; null without a route. */
    auth: RouteAuth | null;
  };
  /** Files written or changed, relative to the project root. */
  files: string[];
  ecosystemLine: string;
  nextSteps: string[];
}

/** Package names of the workspace's packages (apps/*, packages/*, services/*). */
function workspacePackageNames(root: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const group of ['apps', 'packages', 'services']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      try {
        const pkg = JSON.parse(readFileSync(join(dir, entry.name, 'package.json'), 'utf8')) as {
          name?: string;
        };
        if (pkg.name) names.set(pkg.name, `${group}/${entry.name}`);
      } catch {
        // not a package
      }
    }
  }
  return names;
}

function checkDependencies(ecosystem: Ecosystem, dependsOn: string[]): ServiceSpec['dependencies'] {
  const known = ecosystem.services.map((s) => s.name);
  const unknown = dependsOn.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const suggestion = known.length > 0 ? closest(unknown[0] as string, known) : undefined;
    throw usageError(
      `--depends-on: unknown service "${unknown.join('", "')}" in ${ecosystem.file};${suggestion ? ` did you mean ${suggestion}?` : ''} (services: ${known.join(', ') || 'none'})`,
      { unknown, known, suggestion: suggestion ?? null },
    );
  }
  return dependsOn.map((name) => {
    const service = ecosystem.services.find((s) => s.name === name);
    if (service?.port === undefined) {
      throw new CLIError(
        `--depends-on ${name}: its entry in ${ecosystem.file} has no env.PORT, so where it listens is unknown; give it one`,
      );
    }
    return { pm2Name: name, port: service.port };
  });
}

/**
 * A documented port for the new service (the one its `service(...)` line carries). Each checkout runs
 * its stack on the documented ports shifted by its block (docs/side-by-side.md), so ports are
 * compared documented to documented, and checked free where this checkout will listen.
 */
async function choosePort(ecosystem: Ecosystem, wanted: number | undefined): Promise<number> {
  const offset = ecosystem.stack?.offset ?? 0;
  const taken = new Map<number, string>();
  for (const service of ecosystem.services)
    if (service.port !== undefined) taken.set(service.port - offset, service.name);
  if (wanted === undefined) return pickPort(new Set(taken.keys()), offset);
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 65535) {
    throw usageError(`--port must be a whole number from 1 to 65535 (got ${wanted})`);
  }
  const owner = taken.get(wanted);
  if (owner) {
    throw new CLIError(
      `port ${wanted} is taken: ${owner} uses it in ${ecosystem.file}; pick another or leave out --port`,
      1,
      {
        port: wanted,
        service: owner,
      },
    );
  }
  if (RESERVED_PORTS.has(wanted)) {
    throw new CLIError(`port ${wanted} is the frontend's (Vite); pick another or leave out --port`, 1, {
      port: wanted,
    });
  }
  // Free where this checkout listens (shifted by its block) and where the first checkout does.
  const busy = (await canListen(wanted))
    ? (await canListen(wanted + offset))
      ? undefined
      : wanted + offset
    : wanted;
  if (busy !== undefined) {
    const holder = portHolder(busy, ecosystem.root);
    throw new CLIError(
      `port ${busy} is taken: ${holder ? describeHolder(holder) : 'something listens on it'}; pick another or leave out --port`,
      1,
      { port: wanted, pid: holder?.pid ?? null },
    );
  }
  return wanted;
}

function checkRoute(root: string, prefix: string): string {
  if (!ROUTE_PREFIX.test(prefix)) {
    throw usageError(`--route must look like /api/<name> in lowercase (e.g. /api/billing), not "${prefix}"`);
  }
  const registry = join(root, REGISTRY_FILE);
  if (!existsSync(registry)) {
    throw new CLIError(
      `--route needs the gateway's registry of generated routes, ${REGISTRY_FILE}, which this project does not have; add the route to services/api-gateway by hand, or leave out --route`,
    );
  }
  const text = readFileSync(registry, 'utf8');
  const clash = parseGeneratedRoutes(text).find(
    (entry) => entry.prefix !== undefined && prefixesOverlap(entry.prefix, prefix),
  );
  if (clash) {
    throw new CLIError(
      `--route ${prefix} overlaps ${clash.prefix}, which already goes to ${clash.service} (${REGISTRY_FILE}); choose another prefix`,
      1,
    );
  }
  const segment = prefix.split('/')[2] as string;
  if (handWrittenApiSegments(root).has(segment)) {
    throw new CLIError(
      `--route ${prefix}: the gateway already routes /api/${segment} in services/api-gateway/src; choose another prefix`,
      1,
    );
  }
  return text;
}

export async function runNewService(options: NewServiceOptions): Promise<void> {
  assertServiceName(options.name, 'new service');
  const ecosystem = loadEcosystem();
  const { root } = ecosystem;
  const names = serviceNames(options.name);

  if (existsSync(join(root, names.folder))) {
    throw new CLIError(
      `${names.folder} already exists; choose another name, or remove it first: devctl remove service ${names.name}`,
      1,
      {
        folder: names.folder,
      },
    );
  }
  if (ecosystem.services.some((s) => s.name === names.pm2Name)) {
    throw new CLIError(`${ecosystem.file} already has an app named ${names.pm2Name}; choose another name`, 1);
  }
  const owner = workspacePackageNames(root).get(names.packageName);
  if (owner)
    throw new CLIError(`the package name ${names.packageName} is taken by ${owner}; choose another name`, 1);

  const dependencies = checkDependencies(ecosystem, [...new Set(options.dependsOn)]);
  if (options.route === undefined && options.auth !== undefined && options.auth !== 'bearer') {
    throw usageError('--auth applies to a gateway route: give --route /api/<name> with it, or leave it out');
  }
  const registryFile = join(root, REGISTRY_FILE);
  // Without --route the registry still names the service (GET /api/health, its URL variable); a
  // project without the registry (a gateway older than it) only refuses --route.
  const registryText =
    options.route !== undefined
      ? checkRoute(root, options.route)
      : existsSync(registryFile)
        ? readFileSync(registryFile, 'utf8')
        : undefined;
  const port = await choosePort(ecosystem, options.port);
  /** Where it listens in this checkout: its documented port shifted by the stack's block. */
  const livePort = port + (ecosystem.stack?.offset ?? 0);
  const spec: ServiceSpec = { ...names, port, dependencies };
  const entry = {
    name: names.pm2Name,
    folder: names.name,
    port,
    dependsOn: dependencies.map((d) => d.pm2Name),
  };

  const ecosystemText = readFileSync(ecosystem.file, 'utf8');
  let newEcosystemText: string;
  try {
    newEcosystemText = insertServiceLine(ecosystemText, entry);
  } catch (error) {
    if (!(error instanceof EcosystemShapeError)) throw error;
    throw new CLIError(
      `cannot add ${names.pm2Name} to ${ecosystem.file}: ${error.message}. Nothing was written; add this line to its apps array by hand, then run the command again without it:\n  ${formatServiceLine('', entry)}`,
    );
  }
  const route: GeneratedRouteEntry =
    options.route === undefined
      ? { service: names.pm2Name, port }
      : { prefix: options.route, service: names.pm2Name, port, auth: options.auth ?? 'bearer' };
  const knownServices = ecosystem.services.map((s) => s.name);
  const stackTests = stackTestPackages(root, [...servicePackages(ecosystem).values()]);

  const written: string[] = [];
  const restore: [string, string][] = [];
  const serviceDir = join(root, names.folder);
  try {
    for (const [path, content] of Object.entries(serviceFiles(spec))) {
      const file = join(serviceDir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      written.push(`${names.folder}/${path}`);
    }
    mkdirSync(join(serviceDir, 'logs'), { recursive: true });

    restore.push([ecosystem.file, ecosystemText]);
    writeFileSync(ecosystem.file, newEcosystemText);
    written.push('ecosystem.config.js');
    const reloaded = loadEcosystem(root).services.find((s) => s.name === names.pm2Name);
    // realpath: the ecosystem's __dirname is a real path, the root may have come through a symlink.
    if (!reloaded || reloaded.port !== livePort || realpathSync(reloaded.cwd) !== realpathSync(serviceDir)) {
      throw new CLIError(
        `${ecosystem.file} did not load ${names.pm2Name} as written (found ${reloaded ? `port ${reloaded.port}, cwd ${reloaded.cwd}` : 'no such app'}); it was restored`,
      );
    }

    /** Writes one file of the project, kept to be restored if a later step fails. */
    const edit = (path: string, change: (text: string) => string) => {
      const file = join(root, path);
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const changed = change(text);
      if (changed === text) return;
      restore.push([file, text]);
      writeFileSync(file, changed);
      written.push(path);
    };
    if (registryText !== undefined) {
      edit(REGISTRY_FILE, () => insertGeneratedRoute(registryText, route));
      edit(GATEWAY_ENV_EXAMPLE, (text) => appendEnvExample(text, route));
    }
    for (const path of stackTests) edit(path, (text) => addWorkspaceDevDependency(text, names.packageName));
    for (const path of DOC_FILES) {
      if (!existsSync(join(root, path))) continue;
      edit(path, (text) =>
        addServiceRow(text, { pm2Name: names.pm2Name, folder: names.folder, port }, knownServices),
      );
    }
  } catch (error) {
    for (const [file, text] of restore.reverse()) writeFileSync(file, text);
    rmSync(serviceDir, { recursive: true, force: true });
    throw error instanceof CLIError
      ? error
      : new CLIError(
          `creating ${names.folder} failed: ${(error as Error).message}; everything written was undone`,
        );
  }

  const nextSteps = [
    'pnpm install',
    `pnpm devctl start ${names.pm2Name} --wait`,
    `curl http://127.0.0.1:${livePort}/health`,
    `pnpm --filter ${names.packageName} test`,
  ];
  if (registryText !== undefined) {
    // The gateway reads its registry when it starts; each curl below answers as described as soon
    // as it has restarted (the e2e test runs them).
    const gateway = `http://127.0.0.1:${ecosystem.services.find((s) => s.name === 'api-gateway')?.port ?? 3000}`;
    nextSteps.push('pnpm devctl restart api-gateway --wait');
    if (route.prefix === undefined) {
      nextSteps.push(`curl ${gateway}/api/health   # lists ${names.pm2Name}`);
    } else if (route.auth === 'public') {
      nextSteps.push(`curl ${gateway}${route.prefix}/health   # the service's /health, through the gateway`);
    } else {
      nextSteps.push(
        `curl -i ${gateway}${route.prefix}/health   # 401 without a token: the route is bearer (--auth public opens it)`,
      );
    }
  }
  // deploy/ is generated from the ecosystem; it is stale until exported again.
  if (existsSync(join(root, 'deploy', 'compose.yaml'))) nextSteps.push('pnpm devctl export compose');
  if (existsSync(join(root, 'deploy', 'k8s'))) nextSteps.push('pnpm devctl export kubernetes');
  const result: NewServiceResult = {
    service: {
      name: names.name,
      pm2Name: names.pm2Name,
      package: names.packageName,
      folder: names.folder,
      port: livePort,
      url: `http://127.0.0.1:${livePort}`,
      dependsOn: entry.dependsOn,
      route: route.prefix ?? null,
      auth: route.auth ?? null,
    },
    files: written,
    ecosystemLine: formatServiceLine('', entry),
    nextSteps,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(
    `${c.green('Created')} ${c.bold(names.pm2Name)}: ${names.folder}, package ${names.packageName}, port ${port}${entry.dependsOn.length > 0 ? `, depends on ${entry.dependsOn.join(', ')}` : ''}`,
  );
  out(
    `  files: ${written
      .filter((f) => f.startsWith(names.folder))
      .map((f) => f.slice(names.folder.length + 1))
      .join(', ')}`,
  );
  out(`  ecosystem.config.js: ${result.ecosystemLine}`);
  if (registryText !== undefined) {
    out(
      `  gateway: ${route.prefix === undefined ? 'in /api/health' : `${route.prefix}/* -> ${names.pm2Name}, ${route.auth}`} (${REGISTRY_FILE}; URL variable ${serviceUrlVariable(names.pm2Name)})`,
    );
  }
  const alsoListed = written.filter(
    (f) =>
      !f.startsWith(names.folder) && !['ecosystem.config.js', REGISTRY_FILE, GATEWAY_ENV_EXAMPLE].includes(f),
  );
  if (alsoListed.length > 0) out(`  also listed in: ${alsoListed.join(', ')}`);
  out();
  out(c.bold('Next:'));
  for (const step of nextSteps) out(`  ${step}`);
  out(`  (the walk-through: docs/new-service.md)`);
}
