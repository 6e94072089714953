// A module not found at start (Node's ERR_MODULE_NOT_FOUND / MODULE_NOT_FOUND report): a package
// not installed (`pnpm install`), a package the service never declared (`pnpm add`), or a file
// missing from the built output (rebuild). The location is the import in the service's source.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ServiceSnapshot, Snapshot } from '../collect';
import type { LoggedError } from '../log-tail';
import type { SourceLocation } from '../types';
import { type Candidate, errorEvidence, newErrors, restartCommand } from './shared';

const NOT_FOUND = /Cannot find (package|module) '([^']+)'/;

export function isModuleNotFound(error: LoggedError): boolean {
  const text = `${error.message} ${error.errorMessage ?? ''}`;
  return error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND' || NOT_FOUND.test(text);
}

/** The bare package name of a specifier: `@scope/name/sub` -> `@scope/name`. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:'))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function sourceFiles(folder: string, limit = 400): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (files.length >= limit || entry === 'node_modules' || entry === 'dist') continue;
      const path = join(dir, entry);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(path);
      else if (/\.(m|c)?tsx?$/.test(entry)) files.push(path);
    }
  };
  walk(folder);
  return files;
}

/** Where the service's source imports `pkg` (the first such import). */
function importLocation(root: string, service: ServiceSnapshot, pkg: string): SourceLocation | null {
  const quoted = new RegExp(
    `(?:from\\s+|import\\s*\\(\\s*|require\\s*\\(\\s*|import\\s+)(['"])${pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?:/[^'"]*)?\\1`,
  );
  for (const file of sourceFiles(join(service.entry.cwd, 'src'))) {
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').split('\n');
    } catch {
      continue;
    }
    for (let index = 0; index < lines.length; index++) {
      const match = quoted.exec(lines[index] as string);
      if (match) {
        return { file: relative(root, file).split(sep).join('/'), line: index + 1, column: match.index + 1 };
      }
    }
  }
  return null;
}

function declaredPackages(service: ServiceSnapshot): Set<string> {
  try {
    const pkg = JSON.parse(readFileSync(join(service.entry.cwd, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    return new Set([
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.devDependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ]);
  } catch {
    return new Set();
  }
}

function packageName(service: ServiceSnapshot): string {
  try {
    return String(
      (JSON.parse(readFileSync(join(service.entry.cwd, 'package.json'), 'utf8')) as { name?: string }).name ??
        service.entry.folder,
    );
  } catch {
    return service.entry.folder;
  }
}

export function detectModuleNotFound(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  const root = snapshot.ecosystem.root;
  for (const service of snapshot.services) {
    const name = service.entry.name;
    if (service.state === 'online' && service.health?.ok) continue;
    const errors = newErrors(service).filter(isModuleNotFound);
    const last = errors[errors.length - 1];
    if (!last) continue;
    const text = `${last.message} ${last.errorMessage ?? ''}`;
    const specifier = NOT_FOUND.exec(text)?.[2] ?? '?';
    const pkg = packageOf(specifier);
    const filter = packageName(service);
    let summary: string;
    let next: string;
    let location: SourceLocation | null = null;
    if (pkg) {
      location = importLocation(root, service, pkg);
      if (declaredPackages(service).has(pkg)) {
        summary = `${name} cannot start: package '${pkg}' is not installed (dependencies not installed)`;
        next = `pnpm install, then ${restartCommand(name)}`;
      } else {
        summary = `${name} cannot start: it imports package '${pkg}', which ${service.entry.folder}/package.json does not declare`;
        next = `pnpm --filter ${filter} add ${pkg} (or remove the import${location ? ` at ${location.file}:${location.line}` : ''}), then pnpm install and ${restartCommand(name)}`;
      }
    } else {
      const missing = specifier.startsWith(root) ? relative(root, specifier) : specifier;
      summary = `${name} cannot start: module ${missing} is missing from its built output`;
      next = `rebuild: pnpm --filter ${filter} build (pnpm install first if packages changed), then ${restartCommand(name)}`;
    }
    found.push({
      kind: 'module-not-found',
      service: name,
      severity: 'error',
      role: 'cause',
      summary,
      evidence: [errorEvidence(snapshot, name, last)],
      location,
      next,
    });
  }
  return found;
}
