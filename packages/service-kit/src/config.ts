import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  configErrorLine,
  EX_CONFIG,
  isSecretName,
  isServiceUrlVariable,
  LOCAL_HOST,
  maskValue,
  NAMESPACE_VARIABLE,
  type PrintedVariable,
  portOffsetOf,
  shortHash,
} from '@repo/stack-contract';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

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

export { EX_CONFIG };

/** Fields every service has. `defaultPort` is the service's documented port (the README's service table). */
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
  /** The repository root the root .env (and .secrets/) were read from. */
  rootDir: string;
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

/** Ports of the documented block (3000-3099): a default URL on one of them names a service of this stack. */
const DOCUMENTED_BLOCK = { first: 3000, last: 3099 };

/** The variable of a service's PostgreSQL schema (data-service's), defaulted per stack. */
const DATABASE_SCHEMA = 'DATABASE_SCHEMA';

/**
 * The default of PORT or of a `<NAME>_SERVICE_URL`, moved to this checkout's block of ports: each
 * checkout runs its own stack on the documented ports shifted by DEVSTACK_PORT_OFFSET (which
 * ecosystem.config.js sets; docs/side-by-side.md), so a service calls the services of its own stack.
 * Undefined when there is nothing to shift (offset 0, another variable, a default elsewhere).
 */
function stackDefault(schema: z.ZodObject, key: string, env: NodeJS.ProcessEnv): string | undefined {
  const offset = portOffsetOf(env);
  if (offset === 0) return undefined;
  // A checkout's stack keeps its rows apart on a shared DATABASE_URL: a schema named after it.
  if (key === DATABASE_SCHEMA) {
    const namespace = env[NAMESPACE_VARIABLE];
    return namespace
      ? namespace
          .toLowerCase()
          .replace(/[^a-z0-9_]/g, '_')
          .slice(0, 63)
      : undefined;
  }
  if (key !== 'PORT' && !isServiceUrlVariable(key)) return undefined;
  const field = schema.shape[key] as z.ZodType | undefined;
  const parsed = field?.safeParse(undefined);
  if (!parsed?.success || parsed.data === undefined) return undefined;
  const inBlock = (port: number) => port >= DOCUMENTED_BLOCK.first && port <= DOCUMENTED_BLOCK.last;
  if (key === 'PORT') {
    const port = Number(parsed.data);
    return Number.isInteger(port) && inBlock(port) ? String(port + offset) : undefined;
  }
  try {
    const url = new URL(String(parsed.data));
    const port = Number(url.port);
    if (!['127.0.0.1', 'localhost', LOCAL_HOST].includes(url.hostname) || !inBlock(port)) return undefined;
    url.port = String(port + offset);
    return String(parsed.data).endsWith('/') ? url.href : url.href.replace(/\/$/, '');
  } catch {
    return undefined;
  }
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
  /** raw plus the defaults moved to this stack's block (stackDefault). */
  const input: Record<string, string> = {};
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
      input[key] = hit[1] as string;
      sources[key] = hit[0];
    } else {
      sources[key] = 'default';
      const shifted = stackDefault(schema, key, env);
      if (shifted !== undefined) input[key] = shifted;
    }
  }

  const result = schema.safeParse(input);
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
    rootDir,
  };
}

/** The human lines and the one machine-readable JSON line written to stderr for a ConfigError. */
export function formatConfigError(error: ConfigError): string[] {
  const lines = error.problems.map(
    (p) => `config error in ${error.service}: ${p.variable} ${p.message} (set it in ${p.file})`,
  );
  lines.push(
    configErrorLine(
      error.service,
      error.problems.map((p) => ({ name: p.variable, message: p.message, file: p.file })),
    ),
  );
  return lines;
}

/**
 * A setting that must hold the same value in every service declaring the same group: the key one
 * service signs with and another verifies with. Declared in each schema (see `mustMatch`), so
 * devctl's diagnose can compare the services without a list of its own.
 */
export interface SharedSetting {
  /** The group's name, e.g. `jwt-signing-key`: every variable declared with it must agree. */
  group: string;
  /**
   * The development secret (`resolveDevSecret`'s name under <root>/.secrets/) the service uses when
   * the variable is unset: two services that both leave it unset agree through that file.
   */
  devSecret?: string;
}

const sharedSettings = z.registry<SharedSetting>();

/**
 * Declares that this variable must be equal in every service that declares `group`, e.g.
 * `JWT_SECRET: mustMatch('jwt-signing-key', z.string().min(32).optional(), { devSecret: 'jwt-secret' })`.
 * Returns the schema unchanged; wrap the outermost schema of the field (after `.optional()` or
 * `.default()`).
 */
export function mustMatch<T extends z.ZodType>(
  group: string,
  schema: T,
  options: { devSecret?: string } = {},
): T {
  sharedSettings.add(schema, { group, ...options });
  return schema;
}

/** The shared-setting declaration of a schema field, if it has one. */
export function sharedSettingOf(field: unknown): SharedSetting | undefined {
  return field instanceof z.ZodType ? sharedSettings.get(field) : undefined;
}

/** One variable as `--print-config` prints it (the contract's shape). Values are masked; secrets only by a short hash. */
export interface DescribedVariable extends PrintedVariable {
  source: ConfigSource;
}

function readDevSecret(rootDir: string, name: string): string | undefined {
  try {
    const value = readFileSync(join(rootDir, '.secrets', name), 'utf8').trim();
    // resolveDevSecret replaces a stored secret shorter than its minimum: it is not the one in use.
    return value.length >= 32 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The resolved configuration as `--print-config` prints it: each variable of the schema, masked,
 * with its source, and a short hash for secrets and shared settings so that two services can be
 * compared without printing a value. The development secret a shared setting falls back to is read,
 * never created.
 */
export function describeConfig(schema: z.ZodObject, loaded: LoadedConfig<Record<string, unknown>>) {
  return Object.keys(loaded.sources).map((name): DescribedVariable => {
    const config = loaded.config[name];
    const value = loaded.raw[name] ?? (config === undefined ? undefined : String(config));
    const described: DescribedVariable = {
      name,
      value: maskValue(name, value),
      source: loaded.sources[name] as ConfigSource,
    };
    const field = schema.shape[name];
    const shared = sharedSettingOf(field);
    if (shared) described.mustMatch = shared.group;
    if (field instanceof z.ZodDefault && !isSecretName(name)) {
      const fallback = field.def.defaultValue;
      if (typeof fallback === 'string' || typeof fallback === 'number' || typeof fallback === 'boolean') {
        described.default = String(fallback);
      }
    }
    if (shared?.devSecret) described.fallback = `.secrets/${shared.devSecret}`;
    if (value !== undefined && value !== '' && (shared || isSecretName(name))) {
      described.hash = shortHash(value);
    } else if (shared?.devSecret) {
      const secret = readDevSecret(loaded.rootDir, shared.devSecret);
      if (secret !== undefined) described.hash = shortHash(secret);
    }
    return described;
  });
}
