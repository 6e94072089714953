// When devctl last verified each service working, and on what: the build PM2 runs (a hash of its
// script), the commit checked out, and a fingerprint of every source file that build is made of
// (the service's own and those of the workspace packages it bundles). Recorded only at verified
// points: `start --wait` / `restart --wait` when their verdict is healthy, and `diagnose` when its
// report has no error at all. Never on /health alone (`status`): a service that answers /health
// may still give wrong answers, and recording it would erase the edit that broke it. diagnose
// then names what changed since (diagnose/changes.ts). Kept in node_modules/.cache/devctl, like turbo's
// cache: per checkout, never committed, gone with node_modules.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { cacheFile, readCache, writeCache } from '../cache';

/** What devctl knew of one service the last time it saw it healthy. */
export interface HealthyRecord {
  /** ISO time it was last verified working. */
  time: string;
  /** ISO time this build was first verified working (its fingerprint and commit were taken then). */
  since: string;
  /** The commit checked out then, or null outside a git repository. */
  commit: string | null;
  /** sha-256 (16 hex) of the script PM2 runs (the built bundle), or null when there is none. */
  build: string | null;
  /** The script's size and mtime: a cheap check that the build is still the one hashed. */
  buildSize: number | null;
  buildMtimeMs: number | null;
  /** Repository-relative source file -> a hash of its content, as it was then. */
  files: Record<string, string>;
}

export type LastHealthy = Record<string, HealthyRecord>;

/** The service as recordHealthy needs it (a ServiceEntry fits). */
export interface HealthyService {
  name: string;
  /** Absolute working directory and the script PM2 runs there. */
  cwd: string;
  script: string;
  /** Repository-relative package folder, e.g. `services/form`. */
  folder: string;
}

export interface HealthySighting {
  service: HealthyService;
  /** When its current process started (ms): a build newer than that is not what runs. */
  startedAt?: number;
}

/** A service as diagnose saw it, for the recording rule. */
export interface SeenService {
  name: string;
  kind: 'service' | 'tool';
  /** PM2 state as diagnose names it (`online`, `stopped`, ...). */
  state: string;
  /** It answered /health with a 2xx. */
  healthOk: boolean;
}

/**
 * The services a diagnose records as last verified working: none when any finding is an error (a
 * stack with an error is not working, and a service that only answers /health may be the one that
 * gives the wrong answers); else those online, answering /health and named in no finding (a
 * warning on a service, such as changed-since-healthy, keeps it out: recording it would erase
 * the very change the warning names).
 */
export function verifiedByDiagnose(
  findings: { service: string; severity: 'error' | 'warning' }[],
  seen: SeenService[],
): string[] {
  if (findings.some((finding) => finding.severity === 'error')) return [];
  const named = new Set(findings.map((finding) => finding.service));
  return seen
    .filter((service) => service.kind === 'service' && service.state === 'online' && service.healthOk)
    .filter((service) => !named.has(service.name))
    .map((service) => service.name);
}

export const lastHealthyFile = (root: string) => cacheFile(root, 'last-healthy.json');

export function readLastHealthy(root: string): LastHealthy {
  return (readCache(root, 'last-healthy.json') ?? {}) as LastHealthy;
}

/** PM2's start time has ms precision, a file's mtime too; a second of slack for clocks and builds. */
const START_SLACK_MS = 1000;

/** "Last healthy" is kept to this precision: the file is not rewritten more often for one build. */
const TIME_RESOLUTION_MS = 10_000;

/** Folders never part of a build's sources. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'logs', 'coverage', 'test', 'tests', '__tests__']);
/** A package with more source files than this is fingerprinted only this far (a guard, not a rule). */
const MAX_FILES = 4000;

/** The workspace packages' folders by package name, from pnpm-workspace.yaml's `packages:` globs. */
export function workspacePackages(root: string): Map<string, string> {
  const byName = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  } catch {
    return byName;
  }
  const block = /^packages:\s*\n((?:[ \t]+-.*\n?)*)/m.exec(text)?.[1] ?? '';
  const patterns = [...block.matchAll(/-\s*['"]?([^'"\n#]+?)['"]?\s*(?:#.*)?$/gm)].map((m) =>
    (m[1] as string).trim(),
  );
  const folders: string[] = [];
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) continue;
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      try {
        for (const name of readdirSync(join(root, parent))) folders.push(`${parent}/${name}`);
      } catch {
        // a glob that matches nothing
      }
    } else folders.push(pattern.replace(/\/$/, ''));
  }
  for (const folder of folders) {
    try {
      const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as {
        name?: unknown;
      };
      if (typeof manifest.name === 'string') byName.set(manifest.name, folder);
    } catch {
      // not a package
    }
  }
  return byName;
}

function workspaceDependencies(root: string, folder: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    return Object.entries(manifest.dependencies ?? {})
      .filter(([, version]) => version.startsWith('workspace:'))
      .map(([name]) => name);
  } catch {
    return [];
  }
}

/**
 * The repository-relative paths a service's build is made of: for its folder and each workspace
 * package among its (runtime) dependencies, transitively, `<folder>/src` (the whole folder when it
 * has no src) and `<folder>/package.json`.
 */
export function sourcePaths(root: string, folder: string, packages = workspacePackages(root)): string[] {
  const folders: string[] = [];
  const visit = (current: string) => {
    if (folders.includes(current)) return;
    folders.push(current);
    for (const name of workspaceDependencies(root, current)) {
      const dependency = packages.get(name);
      if (dependency) visit(dependency);
    }
  };
  visit(folder);
  return folders.flatMap((current) => {
    const src = existsSync(join(root, current, 'src')) ? `${current}/src` : current;
    return src === current ? [current] : [src, `${current}/package.json`];
  });
}

const hashOf = (content: Buffer | string) => createHash('sha1').update(content).digest('hex').slice(0, 16);

/** The hash of a file edited after the build was made: its built content is unknown. */
export const UNBUILT = 'unbuilt';

/**
 * Every source file under `paths` with a hash of its content, repository-relative with `/`. A file
 * modified after `builtAt` (ms) is not what the build holds: it gets UNBUILT, which never equals a
 * content hash, so diagnose names it as changed until a newer build is seen healthy.
 */
export function fingerprint(
  root: string,
  paths: string[],
  builtAt?: number,
  /** Hashes already taken in this run, by path: the shared packages are part of every service. */
  cache?: Map<string, string>,
): Record<string, string> {
  const files: Record<string, string> = {};
  let count = 0;
  const add = (absolute: string) => {
    if (count >= MAX_FILES) return;
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(absolute);
    } catch {
      return;
    }
    if (stats.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(absolute);
      } catch {
        return;
      }
      for (const name of names.sort()) {
        if (name.startsWith('.') || SKIPPED_FOLDERS.has(name)) continue;
        add(join(absolute, name));
      }
      return;
    }
    if (!stats.isFile() || /\.(test|spec)\.[cm]?[jt]sx?$/.test(absolute)) return;
    const path = relative(root, absolute).split(sep).join('/');
    if (builtAt !== undefined && stats.mtimeMs > builtAt + START_SLACK_MS) {
      files[path] = UNBUILT;
      count++;
      return;
    }
    try {
      const known = cache?.get(path);
      const hash = known ?? hashOf(readFileSync(absolute));
      cache?.set(path, hash);
      files[path] = hash;
      count++;
    } catch {
      // unreadable: not part of what we can compare
    }
  };
  for (const path of paths) add(resolve(root, path));
  return files;
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The repository's git directory above `root` (a worktree's `.git` file points to it). */
function gitDirectory(root: string): string | undefined {
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    try {
      const stats = statSync(dotGit);
      if (stats.isDirectory()) return dotGit;
      const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
      return pointer ? resolve(dir, pointer) : undefined;
    } catch {
      // no .git here: look above
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * HEAD read from the files git keeps (HEAD, the loose ref, packed-refs; a worktree's refs live in
 * its common directory), without starting git: a git process costs more than the rest of the
 * recording. Null when it cannot tell (then git is asked).
 */
function readHead(gitDir: string): string | null {
  const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
  if (SHA.test(head)) return head;
  const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  let common = gitDir;
  try {
    common = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked worktree
  }
  for (const dir of new Set([gitDir, common])) {
    try {
      const loose = readFileSync(join(dir, ref), 'utf8').trim();
      if (SHA.test(loose)) return loose;
    } catch {
      // packed, or in the other directory
    }
  }
  try {
    for (const line of readFileSync(join(common, 'packed-refs'), 'utf8').split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref && sha && SHA.test(sha)) return sha;
    }
  } catch {
    // no packed refs
  }
  return null;
}

/** The commit checked out in `root`, or null outside git (or on an unborn branch). */
export function headCommit(root: string): string | null {
  const gitDir = gitDirectory(root);
  if (!gitDir) return null;
  try {
    const head = readHead(gitDir);
    if (head) return head;
  } catch {
    // unreadable: ask git
  }
  try {
    // Loaded here, not at the top: node:child_process costs milliseconds to load.
    const { execFileSync } = process.getBuiltinModule('node:child_process');
    return (
      execFileSync('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim() || null
    );
  } catch {
    return null;
  }
}

function buildIdentity(service: HealthyService): { size: number; mtimeMs: number; path: string } | undefined {
  const path = resolve(service.cwd, service.script);
  try {
    const stats = statSync(path);
    return stats.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs, path } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records that these services were verified working now (the callers decide when: see the
 * header). A build seen for the first time also gets the commit and a fingerprint of its sources; one that is newer than the process running (built, not
 * yet restarted) is not what is healthy and is skipped. Never throws: a state that cannot be
 * written only costs diagnose its "changed since" note.
 */
export function recordHealthy(root: string, sightings: HealthySighting[], now = Date.now()): void {
  if (sightings.length === 0) return;
  try {
    const state = readLastHealthy(root);
    let packages: Map<string, string> | undefined;
    let commit: string | null | undefined;
    let changed = false;
    for (const { service, startedAt } of sightings) {
      const build = buildIdentity(service);
      if (build && startedAt !== undefined && build.mtimeMs > startedAt + START_SLACK_MS) continue;
      const known = state[service.name];
      const time = new Date(now).toISOString();
      const sameStat =
        known && build && known.buildSize === build.size && known.buildMtimeMs === build.mtimeMs;
      const hash = build && !sameStat ? hashOf(readFileSync(build.path)) : (known?.build ?? null);
      if (known && (sameStat || (build ? known.build === hash : known.build === null))) {
        // The same build seen again within a few seconds: not worth a write (diagnose runs often).
        if (sameStat && now - Date.parse(known.time) < TIME_RESOLUTION_MS) continue;
        state[service.name] = {
          ...known,
          time,
          buildSize: build?.size ?? null,
          buildMtimeMs: build?.mtimeMs ?? null,
        };
        changed = true;
        continue;
      }
      packages ??= workspacePackages(root);
      if (commit === undefined) commit = headCommit(root);
      state[service.name] = {
        time,
        since: time,
        commit,
        build: hash,
        buildSize: build?.size ?? null,
        buildMtimeMs: build?.mtimeMs ?? null,
        files: fingerprint(root, sourcePaths(root, service.folder, packages), build?.mtimeMs),
      };
      changed = true;
    }
    if (!changed) return;
    writeCache(root, 'last-healthy.json', state);
  } catch {
    // best effort (read-only checkout, full disk)
  }
}
