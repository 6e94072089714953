import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { CLIError } from '../errors';

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
  /** The raw app object, as PM2 gets it. */
  app: Record<string, unknown>;
}

export interface Ecosystem {
  /** Repository root (the folder of ecosystem.config.js). */
  root: string;
  file: string;
  namespace: string;
  services: ServiceEntry[];
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
  const services = apps.map((app): ServiceEntry => {
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
      app,
    };
  });
  const namespace = services[0]?.namespace ?? 'default';
  return { root, file, namespace, services };
}
