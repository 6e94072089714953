// The gateway's registry of generated routes (services/api-gateway/src/routes/generated.ts) and its
// .env.example, edited as text one entry at a time, like ecosystem.config.js.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localServiceUrl, serviceUrlVariable } from '@repo/stack-contract';

export const GATEWAY_FOLDER = join('services', 'api-gateway');
export const REGISTRY_FILE = join(GATEWAY_FOLDER, 'src', 'routes', 'generated.ts');
export const GATEWAY_ENV_EXAMPLE = join(GATEWAY_FOLDER, '.env.example');

/**
 * One entry of the registry: every service `devctl new service` made, so the gateway knows each
 * backend (its URL variable and GET /api/health) without a hand-kept list; with `prefix`, the
 * gateway also forwards that public prefix to it.
 */
export type GeneratedRouteEntry =
  | { prefix: string; service: string; port: number; auth: RouteAuth }
  | { prefix?: undefined; service: string; port: number; auth?: undefined };

/** `bearer`: the gateway checks the JWT first and passes the user on; `public`: no check. */
export type RouteAuth = 'public' | 'bearer';
export const ROUTE_AUTHS: readonly RouteAuth[] = ['bearer', 'public'];

/** A route prefix devctl accepts: /api/ then lowercase path segments, e.g. /api/billing or /api/v2/billing. */
export const ROUTE_PREFIX = /^\/api(\/[a-z0-9][a-z0-9._-]*)+$/;

/** Removes comments, so a commented-out example entry or a path in a doc comment is not read as code. */
export const withoutComments = (text: string): string =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ''))
    .replace(/(^|\s)\/\/.*$/gm, '$1');

const field = (body: string, key: string) =>
  new RegExp(`\\b${key}:\\s*(?:['"]([^'"]*)['"]|(\\d+))`)
    .exec(body)
    ?.slice(1)
    .find((v) => v !== undefined);

/**
 * The entries of the registry's `generatedRoutes` array, read field by field (any order, one line
 * or several), so an entry formatted by hand or by Biome still counts.
 */
export function parseGeneratedRoutes(text: string): GeneratedRouteEntry[] {
  const code = withoutComments(text);
  const start = code.search(/export const generatedRoutes\b/);
  if (start === -1) return [];
  const entries: GeneratedRouteEntry[] = [];
  for (const match of code.slice(start).matchAll(/\{([^{}]*)\}/g)) {
    const body = match[1] as string;
    const service = field(body, 'service');
    const port = Number(field(body, 'port'));
    if (!service || !Number.isInteger(port)) continue;
    const prefix = field(body, 'prefix');
    const auth = field(body, 'auth');
    entries.push(
      prefix === undefined
        ? { service, port }
        : { prefix, service, port, auth: auth === 'bearer' ? 'bearer' : 'public' },
    );
  }
  return entries;
}

export function formatGeneratedRoute(entry: GeneratedRouteEntry): string {
  return entry.prefix === undefined
    ? `{ service: '${entry.service}', port: ${entry.port} },`
    : `{ prefix: '${entry.prefix}', service: '${entry.service}', port: ${entry.port}, auth: '${entry.auth}' },`;
}

const ARRAY_START = /^(\s*)export const generatedRoutes\b[^=]*=\s*\[\s*(\];?)?\s*$/;

/** The registry's text with one entry added as the last element of `generatedRoutes`. */
export function insertGeneratedRoute(text: string, entry: GeneratedRouteEntry): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => ARRAY_START.test(line));
  if (start === -1) throw new Error('no line "export const generatedRoutes ... = [" in the registry');
  const match = ARRAY_START.exec(lines[start] as string) as RegExpExecArray;
  const indent = `${match[1] ?? ''}  `;
  if (match[2]) {
    // `= [];` on one line: open it up.
    lines.splice(
      start,
      1,
      (lines[start] as string).replace(/\[\s*\];?\s*$/, '['),
      `${indent}${formatGeneratedRoute(entry)}`,
      '];',
    );
    return lines.join('\n');
  }
  const close = lines.findIndex((line, index) => index > start && /^\s*\];?\s*$/.test(line));
  if (close === -1) throw new Error('the generatedRoutes array has no closing "];" line');
  lines.splice(close, 0, `${indent}${formatGeneratedRoute(entry)}`);
  return lines.join('\n');
}

/** The registry's text without the entry of `service`; undefined when it has none. */
export function removeGeneratedRoute(text: string, service: string): string | undefined {
  const lines = text.split('\n');
  const quoted = new RegExp(`service:\\s*['"]${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`);
  const at = lines.findIndex((line) => quoted.test(line) && !/^\s*\/\//.test(line));
  if (at === -1) return undefined;
  // An entry may have been formatted over several lines: from its `{` to its `}`.
  let first = at;
  while (first > 0 && !(lines[first] as string).includes('{')) first--;
  let last = at;
  while (last < lines.length - 1 && !(lines[last] as string).includes('}')) last++;
  lines.splice(first, last - first + 1);
  const start = lines.findIndex((line) => ARRAY_START.test(line));
  if (start !== -1 && /^\s*\];?\s*$/.test(lines[start + 1] ?? '')) {
    // Nothing left between `[` and `];`: back to the one-line form it was inserted into.
    lines.splice(start, 2, `${(lines[start] as string).replace(/\[\s*$/, '[];')}`);
  }
  return lines.join('\n');
}

/** The block `new service` appends to the gateway's .env.example for one service. */
export function envExampleBlock(entry: GeneratedRouteEntry): string {
  const role =
    entry.prefix === undefined ? 'probed by GET /api/health' : `behind ${entry.prefix} (${entry.auth})`;
  return `\n# ${entry.service}, ${role} (added by devctl new service)\n${serviceUrlVariable(entry.service)}=${localServiceUrl(entry.port)}\n`;
}

export function appendEnvExample(text: string, entry: GeneratedRouteEntry): string {
  return `${text.endsWith('\n') || text === '' ? text : `${text}\n`}${envExampleBlock(entry).slice(text === '' ? 1 : 0)}`;
}

/** The .env.example text without the variable of `service` (and the block's comment when devctl wrote it). */
export function removeEnvExample(text: string, entry: GeneratedRouteEntry): string {
  const block = envExampleBlock(entry);
  if (text.includes(block)) return text.replace(block, '');
  const variable = serviceUrlVariable(entry.service);
  return text
    .split('\n')
    .filter((line) => !line.startsWith(`${variable}=`))
    .join('\n');
}

/**
 * The first path segments under /api/ that the gateway's hand-written code routes (`'/api/forms'`
 * -> `forms`), from the string literals of its src/ files other than the registry.
 */
export function handWrittenApiSegments(root: string): Set<string> {
  const segments = new Set<string>();
  for (const path of handWrittenSourceFiles(root, [join(root, GATEWAY_FOLDER, 'src')])) {
    const code = withoutComments(readFileSync(path, 'utf8'));
    for (const match of code.matchAll(/['"`]\/api\/([a-z0-9._-]+)/g)) segments.add(match[1] as string);
  }
  return segments;
}

/**
 * The code files (.ts, .tsx, .js, .mjs) under `folders`, found recursively, without the registry of
 * generated routes: the project's hand-written code, which devctl reads but never edits.
 */
export function handWrittenSourceFiles(root: string, folders: string[]): string[] {
  const registry = join(root, REGISTRY_FILE);
  const files: string[] = [];
  const left = [...folders];
  while (left.length > 0) {
    const folder = left.pop() as string;
    if (!existsSync(folder)) continue;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) left.push(path);
      else if (/\.(ts|tsx|js|mjs)$/.test(entry.name) && path !== registry) files.push(path);
    }
  }
  return files;
}

/** True when one prefix is the other or lies under it (`/api/billing` and `/api/billing/v2`). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
