import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { maskValue } from './mask';

export type ConfigSource = 'process' | 'service .env' | 'root .env' | 'default';

export interface ConfigProblem {
  variable: string;
  message: string;
  /** Repository-relative file where the variable should be set. */
  file: string;
}

/** Raised at start-up when the configuration is missing or invalid; the process exits 78 (EX_CONFIG). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly service: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${service}: invalid configuration (${problems.map((p) => p.variable).join(', ')})`);
  }
}

export const EX_CONFIG = 78;

/** Fields every service has. `defaultPort` is the port PRODUCT.md assigns to the service. */
export function baseConfigSchema(defaultPort: number) {
  return z.object({
    PORT: z.coerce.number().int().min(1).max(65535).default(defaultPort),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  });
}

export interface LoadedConfig<T> {
  config: T;
  /** Where each variable of the schema came from. */
  sources: Record<string, ConfigSource>;
  /** The raw string value of each variable that was set somewhere (before defaults). */
  raw: Record<string, string>;
  files: { service: string; root: string };
}

export interface LoadConfigOptions {
  service: string;
  serviceDir: string;
  rootDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** The repository root: the nearest folder above `from` holding pnpm-workspace.yaml. */
export function findRepoRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(from, '..', '..');
    dir = parent;
  }
}

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseDotenv(readFileSync(path));
}

/**
 * Resolves configuration with the precedence process env > services/<x>/.env > root .env > schema
 * default, then validates it. Files are read on every call (never cached, never copied into
 * process.env), so an edited .env applies on the next restart.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  options: LoadConfigOptions,
): LoadedConfig<z.output<S>> {
  const env = options.env ?? process.env;
  const rootDir = options.rootDir ?? findRepoRoot(options.serviceDir);
  const serviceFile = join(options.serviceDir, '.env');
  const rootFile = join(rootDir, '.env');
  const fromService = readEnvFile(serviceFile);
  const fromRoot = readEnvFile(rootFile);

  const raw: Record<string, string> = {};
  const sources: Record<string, ConfigSource> = {};
  for (const key of Object.keys(schema.shape)) {
    const candidates: [ConfigSource, string | undefined][] = [
      ['process', env[key]],
      ['service .env', fromService[key]],
      ['root .env', fromRoot[key]],
    ];
    const hit = candidates.find(([, v]) => v !== undefined && v !== '');
    if (hit) {
      raw[key] = hit[1] as string;
      sources[key] = hit[0];
    } else {
      sources[key] = 'default';
    }
  }

  const result = schema.safeParse(raw);
  const relServiceFile = relative(rootDir, serviceFile) || '.env';
  if (!result.success) {
    const problems: ConfigProblem[] = [];
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? '(config)');
      if (problems.some((p) => p.variable === variable)) continue;
      const value = raw[variable];
      const message =
        value === undefined
          ? 'is required but not set'
          : `has an invalid value ${JSON.stringify(maskValue(variable, value))}: ${issue.message}`;
      problems.push({ variable, message, file: relServiceFile });
    }
    throw new ConfigError(options.service, problems);
  }
  return {
    config: result.data,
    sources,
    raw,
    files: { service: relServiceFile, root: relative(process.cwd(), rootFile) || '.env' },
  };
}

/** The human lines and the one machine-readable JSON line written to stderr for a ConfigError. */
export function formatConfigError(error: ConfigError): string[] {
  const lines = error.problems.map(
    (p) => `config error in ${error.service}: ${p.variable} ${p.message} (set it in ${p.file})`,
  );
  lines.push(
    JSON.stringify({
      devctl: 'config-error',
      service: error.service,
      variables: error.problems.map((p) => ({ name: p.variable, message: p.message, file: p.file })),
    }),
  );
  return lines;
}
