// What a service depends on and where it expects to find it, from its configuration (as the
// service kit resolves it: ecosystem env > services/<x>/.env > root .env) and depends_on:
// other services (`<NAME>_SERVICE_URL`), the database (`DATABASE_URL`), the SMTP server.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { isServiceUrlVariable, serviceOfUrlVariable } from '@repo/stack-contract';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';

export interface Dependency {
  /** A stack service's PM2 name, or `database` / `smtp`. */
  name: string;
  kind: 'service' | 'database' | 'smtp';
  host: string;
  port: number;
  /** The variable that sets the address and where it is set, e.g. `DATABASE_URL` in services/data/.env. */
  variable: string | undefined;
  file: string | undefined;
}

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export interface ResolvedValue {
  value: string;
  /** Repository-relative file, or `ecosystem.config.js`. */
  file: string;
}

/** The configuration a service sees (values never printed by diagnose, only hosts and ports). */
export function resolveServiceEnv(ecosystem: Ecosystem, service: ServiceEntry): Map<string, ResolvedValue> {
  const layers: [string, Record<string, string>][] = [
    ['ecosystem.config.js', service.env],
    [join(service.folder, '.env'), readEnvFile(join(service.cwd, '.env'))],
    ['.env', readEnvFile(join(ecosystem.root, '.env'))],
  ];
  const resolved = new Map<string, ResolvedValue>();
  for (const [file, values] of layers.reverse()) {
    for (const [key, value] of Object.entries(values)) {
      if (value !== '') resolved.set(key, { value, file });
    }
  }
  return resolved;
}

function addressOf(url: string, defaultPort: number): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : defaultPort;
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

const DEFAULT_PORTS: Record<string, number> = {
  'http:': 80,
  'https:': 443,
  'postgres:': 5432,
  'postgresql:': 5432,
};

/** The service's dependencies with their addresses. */
export function dependenciesOf(ecosystem: Ecosystem, service: ServiceEntry): Dependency[] {
  const env = resolveServiceEnv(ecosystem, service);
  const found: Dependency[] = [];
  const byPort = new Map(ecosystem.services.map((s) => [s.port, s]));
  const names = ecosystem.services.map((s) => s.name);
  for (const [key, { value, file }] of env) {
    if (!isServiceUrlVariable(key)) continue;
    const protocol = /^(\w+:)/.exec(value)?.[1] ?? 'http:';
    const address = addressOf(value, DEFAULT_PORTS[protocol] ?? 80);
    if (!address) continue;
    // Not a service of this stack (no such name, no such port): named by the variable's words.
    const words = key.slice(0, -'_SERVICE_URL'.length).toLowerCase().replace(/_/g, '-');
    const name = serviceOfUrlVariable(key, names) ?? byPort.get(address.port)?.name ?? words;
    found.push({ name, kind: 'service', ...address, variable: key, file });
  }
  for (const name of service.dependsOn) {
    if (found.some((d) => d.name === name)) continue;
    const target = ecosystem.services.find((s) => s.name === name);
    if (target?.port) {
      found.push({
        name,
        kind: 'service',
        host: '127.0.0.1',
        port: target.port,
        variable: undefined,
        file: undefined,
      });
    }
  }
  const database = env.get('DATABASE_URL');
  if (database) {
    const address = addressOf(database.value, 5432);
    if (address)
      found.push({
        name: 'database',
        kind: 'database',
        ...address,
        variable: 'DATABASE_URL',
        file: database.file,
      });
  }
  const smtpHost = env.get('SMTP_HOST');
  const transport = env.get('EMAIL_TRANSPORT')?.value;
  if (smtpHost && (transport === undefined || transport === 'smtp')) {
    const port = Number(env.get('SMTP_PORT')?.value ?? 587);
    found.push({
      name: 'smtp',
      kind: 'smtp',
      host: smtpHost.value,
      port: Number.isInteger(port) ? port : 587,
      variable: 'SMTP_HOST',
      file: smtpHost.file,
    });
  }
  return found;
}

/** True for addresses of this machine, where a stack service would listen. */
export const isLocalHost = (host: string) =>
  host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '0.0.0.0' || host === '::';

export function describeDependency(dependency: Dependency): string {
  const where = `${dependency.host}:${dependency.port}`;
  if (dependency.kind === 'database') return `the database at ${where} (DATABASE_URL)`;
  if (dependency.kind === 'smtp') return `the SMTP server at ${where} (SMTP_HOST)`;
  return `${dependency.name} at ${where}`;
}
