// The places outside ecosystem.config.js that must name every service, kept in step by
// `devctl new service` and `devctl remove service` so neither leaves a stale list behind:
// - the docs' service tables (a Markdown table whose first header cell starts with "PM2 name", in
//   README.md and AGENTS.md), one row per service;
// - the workspace packages that test the whole stack (a package under packages/ whose dependencies
//   name every service's package, as packages/stack-tests does): turbo builds a package's
//   dependencies before its tests, so a service missing there is tested from a stale dist/.
// The other lists are derived and need no edit: the gateway's backends come from its registry
// (gateway-text.ts), apps/web/turbo.json waits for @repo/stack-tests#build, the stack tests read
// ecosystem.config.js. checkServiceLists reports any drift, for a test on the real repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { serviceUrlVariable } from '@repo/stack-contract';
import type { Ecosystem } from '../ecosystem/index';
import { handWrittenSourceFiles, withoutComments } from './gateway-text';

/** Root files whose service tables `devctl new service` and `remove service` edit. */
export const DOC_FILES = ['README.md', 'AGENTS.md'];

/** A new service's row: what the table's columns say of it. */
export interface ServiceRow {
  pm2Name: string;
  folder: string;
  port: number;
}

interface Table {
  /** Line index of the header row. */
  start: number;
  /** Line index after the last row. */
  end: number;
  rows: string[][];
}

const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());
const isSeparator = (cells: string[]) => cells.every((cell) => /^:?-+:?$/.test(cell));

/** The service tables of a Markdown text: tables whose first header cell starts with "PM2 name". */
function serviceTables(lines: string[]): Table[] {
  const tables: Table[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const header = lines[i] as string;
    if (!header.trim().startsWith('|') || !/^PM2 name\b/.test(cellsOf(header)[0] ?? '')) continue;
    if (!isSeparator(cellsOf(lines[i + 1] as string))) continue;
    let end = i + 2;
    while (end < lines.length && (lines[end] as string).trim().startsWith('|')) end++;
    tables.push({ start: i, end, rows: lines.slice(i, end).map(cellsOf) });
    i = end - 1;
  }
  return tables;
}

/** The table's lines with every column padded to its widest cell, as the docs are laid out. */
function alignTable(rows: string[][]): string[] {
  const widths = (rows[0] as string[]).map((_, column) =>
    Math.max(...rows.filter((_, index) => index !== 1).map((row) => (row[column] ?? '').length)),
  );
  return rows.map((row, index) =>
    index === 1
      ? `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`
      : `| ${widths.map((width, column) => (row[column] ?? '').padEnd(width)).join(' | ')} |`,
  );
}

/**
 * The text with a row for `service` in each service table, after the last row of a service of
 * `known` (PM2 names), so rows such as the frontend's stay last. Columns after the port get a
 * placeholder that says who wrote the row and what to put there.
 */
export function addServiceRow(text: string, service: ServiceRow, known: readonly string[]): string {
  const lines = text.split('\n');
  for (const table of serviceTables(lines).reverse()) {
    const rows = table.rows;
    if (rows.some((row) => row[0] === service.pm2Name)) continue;
    let after = 1;
    rows.forEach((row, index) => {
      if (index > 1 && known.includes(row[0] ?? '')) after = index;
    });
    const columns = (rows[0] as string[]).length;
    const row = [service.pm2Name, service.folder, String(service.port)];
    while (row.length < columns) row.push('made by `devctl new service`: say what it does');
    rows.splice(after + 1, 0, row.slice(0, columns));
    lines.splice(table.start, table.end - table.start, ...alignTable(rows));
  }
  return lines.join('\n');
}

/** The text without the row of `pm2Name` in any service table. */
export function removeServiceRow(text: string, pm2Name: string): string {
  const lines = text.split('\n');
  for (const table of serviceTables(lines).reverse()) {
    const rows = table.rows.filter((row, index) => index < 2 || row[0] !== pm2Name);
    if (rows.length === table.rows.length) continue;
    lines.splice(table.start, table.end - table.start, ...alignTable(rows));
  }
  return lines.join('\n');
}

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readPackage = (file: string): PackageJson | undefined => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
};

/** The package name of each service of the ecosystem (from its folder's package.json), by PM2 name. */
export function servicePackages(ecosystem: Ecosystem): Map<string, string> {
  const names = new Map<string, string>();
  for (const service of ecosystem.services) {
    const name = readPackage(join(service.cwd, 'package.json'))?.name;
    if (name) names.set(service.name, name);
  }
  return names;
}

/**
 * The package.json files (relative to the root) of the packages under packages/ that depend on
 * every service's package: the whole-stack test packages. None when the ecosystem has no service
 * packages (a project made with --no-samples has no such package).
 */
export function stackTestPackages(root: string, servicePackageNames: readonly string[]): string[] {
  if (servicePackageNames.length === 0) return [];
  const dir = join(root, 'packages');
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join('packages', entry.name, 'package.json');
    const pkg = readPackage(join(root, file));
    if (!pkg) continue;
    const deps = { ...pkg.dependencies, ...pkg.devDependencies };
    if (servicePackageNames.every((name) => name in deps)) found.push(file);
  }
  return found.sort();
}

/** package.json text as pnpm and Biome write it: two spaces, a final newline. */
const formatPackage = (pkg: PackageJson) => `${JSON.stringify(pkg, null, 2)}\n`;

/** The package.json text with `packageName` as a workspace devDependency, in alphabetical order. */
export function addWorkspaceDevDependency(text: string, packageName: string): string {
  const pkg = JSON.parse(text) as PackageJson;
  const devDependencies = { ...pkg.devDependencies, [packageName]: 'workspace:*' };
  pkg.devDependencies = Object.fromEntries(
    Object.entries(devDependencies).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return formatPackage(pkg);
}

/** The package.json text without `packageName` in its dependencies; undefined when it has none. */
export function removeWorkspaceDependency(text: string, packageName: string): string | undefined {
  const pkg = JSON.parse(text) as PackageJson;
  let changed = false;
  for (const key of ['dependencies', 'devDependencies'] as const) {
    const deps = pkg[key];
    if (deps && packageName in deps) {
      delete deps[packageName];
      changed = true;
    }
  }
  return changed ? formatPackage(pkg) : undefined;
}

/** The package.json files under apps/, packages/ and services/ that depend on `packageName`. */
export function dependantPackages(root: string, packageName: string): string[] {
  const found: string[] = [];
  for (const group of ['apps', 'packages', 'services']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const file = join(group, entry.name, 'package.json');
      const pkg = readPackage(join(root, file));
      if (pkg && packageName in { ...pkg.dependencies, ...pkg.devDependencies }) found.push(file);
    }
  }
  return found.sort();
}

/**
 * What disagrees with the ecosystem, one sentence each: a service missing from a docs table, a row
 * of a service folder the ecosystem no longer has. Empty when every list is whole.
 */
export function checkServiceLists(ecosystem: Ecosystem): string[] {
  const problems: string[] = [];
  const names = ecosystem.services.map((s) => s.name);
  for (const file of DOC_FILES) {
    const path = join(ecosystem.root, file);
    if (!existsSync(path)) continue;
    for (const table of serviceTables(readFileSync(path, 'utf8').split('\n'))) {
      const listed = table.rows.slice(2).map((row) => row[0] ?? '');
      for (const name of names)
        if (!listed.includes(name))
          problems.push(`${file}:${table.start + 1}: the service table has no row for ${name}`);
      for (const row of table.rows.slice(2)) {
        const [name = '', folder = ''] = row;
        if (folder.startsWith('services/') && !names.includes(name))
          problems.push(
            `${file}:${table.start + 1}: the service table lists ${name}, which the ecosystem has not`,
          );
      }
    }
  }
  return problems;
}

/**
 * The places in other services' and apps' code (src/, comments left out) that name `pm2Name` as a
 * string or use its URL variable: hand-written calls that removing the service would break, such
 * as the gateway's clients of the samples. The registry of generated routes is not code devctl
 * leaves behind (remove service edits it), nor is the service's own folder.
 */
export function codeNaming(root: string, pm2Name: string, ownFolder: string): string[] {
  const named = new RegExp(
    `['"\`]${pm2Name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]|\\b${serviceUrlVariable(pm2Name)}\\b`,
  );
  const found: string[] = [];
  const folders: string[] = [];
  for (const group of ['services', 'apps']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory() && join(group, entry.name) !== ownFolder)
        folders.push(join(dir, entry.name, 'src'));
  }
  for (const path of handWrittenSourceFiles(root, folders)) {
    withoutComments(readFileSync(path, 'utf8'))
      .split('\n')
      .forEach((line, index) => {
        if (named.test(line)) found.push(`${relative(root, path)}:${index + 1}`);
      });
  }
  return found.sort();
}
