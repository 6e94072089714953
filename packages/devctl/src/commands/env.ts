// `devctl env [name]`: the environment a service resolves at start, secrets masked, with where each
// value comes from. devctl imports no service code: it runs the service's built entry with
// `--print-config` (the service kit prints {service, variables: [{name, value, source}]}, masked,
// and exits) under the same environment PM2 gives it (devctl's own plus the ecosystem's env), then
// masks again, so a service that forgets to mask cannot leak a secret through devctl.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EX_CONFIG } from '@repo/stack-contract';
import { buildServices } from '../ecosystem/build';
import { type Ecosystem, loadEcosystem, resolveServices, type ServiceEntry } from '../ecosystem/index';
import { printConfigCached } from '../ecosystem/print-config';
import { CLIError } from '../errors';
import { c } from '../output/colors';
import { maskValue, shortHashOf } from '../output/mask';
import { renderTable } from '../output/table';

export interface EnvOptions {
  names: string[];
  json: boolean;
}

/** One variable in `devctl env --json`. */
export interface EnvVariable {
  name: string;
  /** Masked when secret; null when unset (the schema default applies, or it is optional). */
  value: string | null;
  /** process | service .env | root .env | default */
  source: string;
  /** For `process`: who set it, `ecosystem.config.js` (the app's env) or `shell` (devctl's environment). */
  setBy: string | null;
  /**
   * `sha256:` and the first 8 hex digits of the value in effect, for secrets and shared settings:
   * two services can be compared by eye without showing the value. Null when unknown or unset.
   */
  hash: string | null;
  /** The group of services this variable must agree with (`mustMatch` in the schema), or null. */
  mustMatch: string | null;
  /** The development secret file the service uses when this is unset (e.g. `.secrets/jwt-secret`), or null. */
  fallback: string | null;
}

export interface ServiceEnv {
  name: string;
  folder: string;
  variables: EnvVariable[];
}

const PRINT_TIMEOUT_MS = 15_000;

function maskConfigMessage(line: string): string {
  // `config error in x: JWT_SECRET has an invalid value "abc": ...` must not show a secret's value.
  return line.replace(
    /(\b[A-Z][A-Z0-9_]*) has an invalid value "((?:[^"\\]|\\.)*)"/g,
    (whole, name: string, value: string) => {
      const masked = maskValue(name, value);
      return masked === value ? whole : `${name} has an invalid value "${masked}"`;
    },
  );
}

/** Runs `<script> --print-config` the way PM2 would run the service, and parses its answer. */
async function printConfig(root: string, service: ServiceEntry): Promise<ServiceEnv> {
  // Cached by its inputs (the built code, the .env files, the environment): the pass `start` or
  // `diagnose` paid for answers here, and this one answers theirs.
  const { code, stderr, printed } = await printConfigCached(service, root, { timeoutMs: PRINT_TIMEOUT_MS });
  if (!printed?.variables) {
    const evidence = stderr
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('{'))
      .slice(-8)
      .map(maskConfigMessage)
      .join('\n  ');
    const why =
      code === EX_CONFIG
        ? 'its configuration is invalid'
        : code === null
          ? `it did not answer within ${PRINT_TIMEOUT_MS / 1000} s`
          : `it exited with code ${code} without printing its configuration (does it use the service kit's runService?)`;
    throw new CLIError(
      `env: cannot resolve the environment of ${service.name}: ${why}${evidence ? `:\n  ${evidence}` : ''}\nnext: devctl diagnose ${service.name}`,
      1,
      { service: service.name, exitCode: code },
    );
  }
  return {
    name: service.name,
    folder: service.folder,
    variables: printed.variables.map((variable) => ({
      name: variable.name,
      value: maskValue(variable.name, variable.value),
      source: variable.source,
      setBy:
        variable.source === 'process'
          ? variable.name in service.env
            ? 'ecosystem.config.js'
            : 'shell'
          : null,
      hash: shortHashOf(variable.hash),
      mustMatch: typeof variable.mustMatch === 'string' ? variable.mustMatch : null,
      fallback: typeof variable.fallback === 'string' ? variable.fallback : null,
    })),
  };
}

async function ensureBuilt(ecosystem: Ecosystem, services: ServiceEntry[]): Promise<void> {
  const missing = services.filter((s) => !existsSync(resolve(s.cwd, s.script)));
  if (missing.length === 0) return;
  await buildServices(ecosystem.root, missing);
  const stillMissing = missing.filter((s) => !existsSync(resolve(s.cwd, s.script)));
  if (stillMissing.length > 0) {
    throw new CLIError(
      `env: ${stillMissing.map((s) => `${s.folder}/${s.script}`).join(', ')} does not exist and no build made it; build the service (pnpm build) and try again`,
    );
  }
}

/** The masked value, with the short hash of a secret beside it so two services compare by eye. */
function valueCell(variable: EnvVariable): string {
  const hash = variable.hash ? ` ${c.gray(variable.hash)}` : '';
  if (variable.value !== null) return `${variable.value}${hash}`;
  if (variable.fallback)
    return c.gray(`(unset: ${variable.fallback}${variable.hash ? ` ${variable.hash}` : ''})`);
  return c.gray('(unset)');
}

function sourceCell(variable: EnvVariable): string {
  const text = variable.setBy ? `${variable.source} (${variable.setBy})` : variable.source;
  return variable.source === 'default' ? c.gray(text) : text;
}

export async function runEnv(options: EnvOptions): Promise<void> {
  const ecosystem = loadEcosystem();
  const services = resolveServices(ecosystem, options.names);
  await ensureBuilt(ecosystem, services);
  const resolved = await Promise.all(services.map((service) => printConfig(ecosystem.root, service)));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ services: resolved })}\n`);
    return;
  }
  const blocks = resolved.map(
    (service) =>
      `${c.bold(service.name)} ${c.gray(`(${service.folder})`)}\n${renderTable(service.variables, [
        { header: 'variable', cell: (v) => v.name },
        { header: 'value', cell: valueCell },
        { header: 'source', cell: sourceCell },
      ])}`,
  );
  process.stdout.write(blocks.join('\n'));
}
