// "What changed since it last worked": for each finding, the source files of its service (and of
// the workspace packages it bundles) whose content differs from when devctl last saw the service
// healthy (diagnose/last-healthy.ts), the commits since that touch them, and the command that
// shows the diff. Where a finding has no source location (a hang, a silent exit, a crash loop with
// no stack), that change is the lead, and its `next` says so first.
// Cost: one hash per source file of the services that have findings, and one `git log` per
// distinct healthy commit among them (at most two); no git call at all without a record or a repo.
import { execFileSync } from 'node:child_process';
import { fingerprint, type LastHealthy, sourcePaths, UNBUILT, workspacePackages } from './last-healthy';
import type { Changes, FileChange, Finding, FindingKind } from './types';

/** Most files named in a diff command; past that, the source folders are. */
const MAX_COMMAND_FILES = 8;
const MAX_COMMITS = 5;
const MAX_GIT_CALLS = 2;

/** Kinds whose fix is not in the code (a variable, a port, a service to start): no lead from changes. */
const NOT_A_CODE_FAULT: ReadonlySet<FindingKind> = new Set([
  'config-error',
  'port-conflict',
  'dependency-unreachable',
  'module-not-found',
  'stopped',
  'missing',
]);

/** The files that differ between two fingerprints, sorted by path. */
export function changedFiles(before: Record<string, string>, now: Record<string, string>): FileChange[] {
  const changes: FileChange[] = [];
  for (const [path, hash] of Object.entries(now)) {
    const old = before[path];
    if (old === undefined) changes.push({ path, change: 'added' });
    else if (old !== hash || old === UNBUILT) changes.push({ path, change: 'modified' });
  }
  for (const path of Object.keys(before)) if (!(path in now)) changes.push({ path, change: 'deleted' });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

/** `git diff <commit> -- <files>` (or the source folders when many files changed). */
export function diffCommand(commit: string, files: FileChange[], folders: string[]): string {
  const paths = files.length <= MAX_COMMAND_FILES ? files.map((file) => file.path) : folders;
  return `git diff ${commit.slice(0, 12)} -- ${paths.join(' ')}`;
}

const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8);

/**
 * The findings with their service's changes attached; a finding without a location whose fault is
 * in code gets the change as the first step of its `next`.
 */
export function withChanges(
  findings: Finding[],
  changesOf: (service: string) => Changes | undefined,
): Finding[] {
  return findings.map((finding) => {
    const changes = changesOf(finding.service);
    if (!changes) return finding;
    const leads = finding.location === null && !NOT_A_CODE_FAULT.has(finding.kind);
    if (!leads) return { ...finding, changes };
    const what =
      changes.command ??
      changes.files
        .slice(0, MAX_COMMAND_FILES)
        .map((file) => file.path)
        .join(' ');
    return {
      ...finding,
      changes,
      next: `start from what changed since it last worked (healthy at ${clock(changes.healthyAt)}): ${what}; then ${finding.next}`,
    };
  });
}

function gitLog(root: string, commit: string, paths: string[]): string[] | undefined {
  try {
    const out = execFileSync(
      'git',
      ['log', `--max-count=${MAX_COMMITS}`, '--format=%h %s', `${commit}..HEAD`, '--', ...paths],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 },
    );
    return out.split('\n').filter((line) => line.trim() !== '');
  } catch {
    // the commit is gone (rebased away, another clone): the files still say what changed
    return undefined;
  }
}

export interface ServiceSources {
  name: string;
  /** Repository-relative package folder. */
  folder: string;
}

/** The changes since last healthy of each named service that has a record and a change. */
export function changesSinceHealthy(
  root: string,
  services: ServiceSources[],
  state: LastHealthy,
): Map<string, Changes> {
  const found = new Map<string, Changes>();
  const recorded = services.filter((service) => state[service.name] !== undefined);
  if (recorded.length === 0) return found;
  const packages = workspacePackages(root);
  const commits = new Map<string, string[] | undefined>();
  for (const service of recorded) {
    const record = state[service.name];
    if (!record) continue;
    const folders = sourcePaths(root, service.folder, packages);
    const files = changedFiles(record.files, fingerprint(root, folders));
    if (files.length === 0) continue;
    let log: string[] | undefined;
    if (record.commit) {
      const key = `${record.commit}|${files.map((file) => file.path).join(' ')}`;
      if (!commits.has(key) && commits.size < MAX_GIT_CALLS)
        commits.set(
          key,
          gitLog(
            root,
            record.commit,
            files.map((file) => file.path),
          ),
        );
      log = commits.get(key);
    }
    found.set(service.name, {
      healthyAt: record.time,
      commit: record.commit,
      files,
      commits: log ?? [],
      command: record.commit ? diffCommand(record.commit, files, folders) : null,
    });
  }
  return found;
}
