// ecosystem.config.js, the one description of the stack: PM2 runs it as it is, and devctl, the
// scaffolds and the test stacks read the same file for the list of services, their folders, ports,
// logs and `depends_on`. Read here exactly as PM2 reads it (CommonJS `require`), fresh every time.
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import type { StackIdentity } from './stack-identity.cjs';

/** The file's name, at the repository root. */
export const ECOSYSTEM_FILE = 'ecosystem.config.js';

/**
 * The mark of an app that is not a service: `devctl_role: 'tool'` (devctl's log rotator). A tool has
 * no port and no /health; it starts and stops with the stack, but is never built, probed, diagnosed
 * or scaffolded, and the test stacks leave it out.
 */
export const TOOL_ROLE = 'tool';

/** One app of the file as PM2 gets it. */
export type EcosystemApp = Record<string, unknown>;

/** One app of the file, with what the stack's tools need of it resolved. */
export interface StackApp {
  /** PM2 name, e.g. `form-service`. */
  name: string;
  namespace: string;
  /** Absolute working directory (the service's package folder). */
  cwd: string;
  /** Repository-relative folder, e.g. `services/form`. */
  folder: string;
  script: string;
  /** env.PORT when it is a whole number (see portOf). */
  port: number | undefined;
  outFile: string;
  errorFile: string;
  dependsOn: string[];
  env: Record<string, string>;
  /** `tool` for an app marked `devctl_role: 'tool'` (see TOOL_ROLE); every other app is a service. */
  kind: 'service' | 'tool';
  /** The raw app object, as PM2 gets it. */
  app: EcosystemApp;
}

export interface StackEcosystem {
  /** Repository root (the folder of ecosystem.config.js). */
  root: string;
  file: string;
  /** The first app's namespace (`default` when none): the one devctl acts on. */
  namespace: string;
  /** The services, in the file's order. */
  services: StackApp[];
  /** Apps marked `devctl_role: 'tool'`, in the file's order. */
  tools: StackApp[];
  /**
   * The checkout's stack (namespace, port block, why), when the file exports one as `stack` (the
   * repository's does, from stackIdentity); undefined for a hand-written file without it.
   */
  stack?: StackIdentity;
}

/**
 * The `apps` of `<root>/ecosystem.config.js`, required afresh (an edit since the last read applies).
 * Throws what `require` throws (a missing file, a syntax error); an export without `apps` gives none.
 */
export function readEcosystemApps(root: string): EcosystemApp[] {
  return requireEcosystem(root).apps;
}

function requireEcosystem(root: string): { apps: EcosystemApp[]; stack: StackIdentity | undefined } {
  const file = join(root, ECOSYSTEM_FILE);
  const require = createRequire(file);
  delete require.cache[require.resolve(file)];
  const loaded = require(file) as { apps?: unknown; stack?: unknown };
  const stack = loaded.stack as StackIdentity | undefined;
  return {
    apps: Array.isArray(loaded.apps) ? (loaded.apps as EcosystemApp[]) : [],
    stack: stack && typeof stack.namespace === 'string' && Number.isInteger(stack.block) ? stack : undefined,
  };
}

/** A service's port: its env.PORT when that is a whole number. */
export function portOf(env: Record<string, string | undefined>): number | undefined {
  const port = env.PORT ? Number(env.PORT) : undefined;
  return Number.isInteger(port) ? port : undefined;
}

/** One app with its folder, logs and env resolved as PM2 resolves them (relative to `root`). */
export function stackAppOf(root: string, app: EcosystemApp): StackApp {
  const cwd = resolve(root, String(app.cwd ?? '.'));
  const env = Object.fromEntries(
    Object.entries((app.env as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]),
  );
  return {
    name: String(app.name),
    namespace: String(app.namespace ?? 'default'),
    cwd,
    folder: relative(root, cwd),
    script: String(app.script ?? ''),
    port: portOf(env),
    outFile: resolve(cwd, String(app.out_file ?? join('logs', 'out.log'))),
    errorFile: resolve(cwd, String(app.error_file ?? join('logs', 'error.log'))),
    dependsOn: Array.isArray(app.depends_on) ? app.depends_on.map(String) : [],
    env,
    kind: app.devctl_role === TOOL_ROLE ? 'tool' : 'service',
    app,
  };
}

/** `<root>/ecosystem.config.js` read afresh, its apps split into services and tools. Throws as readEcosystemApps. */
export function readEcosystem(root: string): StackEcosystem {
  const loaded = requireEcosystem(root);
  const apps = loaded.apps.map((app) => stackAppOf(root, app));
  const services = apps.filter((app) => app.kind === 'service');
  const tools = apps.filter((app) => app.kind === 'tool');
  const namespace = (services[0] ?? tools[0])?.namespace ?? 'default';
  return { root, file: join(root, ECOSYSTEM_FILE), namespace, services, tools, stack: loaded.stack };
}
