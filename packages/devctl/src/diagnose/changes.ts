// "What changed since it last worked": for each finding (and each service diagnose looked at with
// no finding: a changed-since-healthy warning), the source files of its service (and of
// the workspace packages it bundles) whose content differs from when devctl last saw the service
// healthy (diagnose/last-healthy.ts), the commits since that touch them, and the command that
// shows the diff. Where a finding has no source location (a hang, a silent exit, a crash loop with
// no stack), that change is the lead, and its `next` says so first.
// Cost: one hash per source file of the services compared (those with a finding, and those looked
// at with a record), and one `git log` per distinct healthy commit among them (at most two, usually
// one: the services are mostly verified together); no git call at all without a record or a repo.
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
    // Edits undone only (as committed again): git diff shows nothing, so they lead nowhere.
    const leads =
      finding.location === null &&
      !NOT_A_CODE_FAULT.has(finding.kind) &&
      !changes.files.every((file) => file.sameAsCommit);
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

/** Commits scanned for one healthy commit, over every compared service's changed files at once. */
const MAX_SCANNED_COMMITS = 200;

/** The commits since `commit` that touch `paths`, newest first, each with the paths it touched. */
function gitLog(
  root: string,
  commit: string,
  paths: string[],
): { line: string; paths: string[] }[] | undefined {
  try {
    const out = execFileSync(
      'git',
      [
        'log',
        `--max-count=${MAX_SCANNED_COMMITS}`,
        '--name-only',
        // paths as diagnose names them (relative to the stack's root, which may sit inside the repo)
        '--relative',
        '--format=%x00%h %s',
        `${commit}..HEAD`,
        '--',
        ...paths,
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 },
    );
    return out
      .split('\0')
      .filter((chunk) => chunk.trim() !== '')
      .map((chunk) => {
        const [line = '', ...touched] = chunk.split('\n').filter((text) => text.trim() !== '');
        return { line, paths: touched };
      });
  } catch {
    // the commit is gone (rebased away, another clone): the files still say what changed
    return undefined;
  }
}

/** Which of `paths` differ from their version in `commit` (one `git diff --name-only`). */
function gitDiffering(root: string, commit: string, paths: string[]): Set<string> | undefined {
  try {
    const out = execFileSync('git', ['diff', '--name-only', '--relative', commit, '--', ...paths], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    return new Set(out.split('\n').filter((line) => line.trim() !== ''));
  } catch {
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
  const hashes = new Map<string, string>();
  const compared: {
    name: string;
    commit: string | null;
    time: string;
    files: FileChange[];
    folders: string[];
  }[] = [];
  for (const service of recorded) {
    const record = state[service.name];
    if (!record) continue;
    const folders = sourcePaths(root, service.folder, packages);
    const files = changedFiles(record.files, fingerprint(root, folders, undefined, hashes));
    if (files.length > 0)
      compared.push({ name: service.name, commit: record.commit, time: record.time, files, folders });
  }
  // One git log per distinct healthy commit (at most two), over the changed files of all services.
  const logs = new Map<string, { line: string; paths: string[] }[] | undefined>();
  for (const { commit } of compared) {
    if (!commit || logs.has(commit) || logs.size >= MAX_GIT_CALLS) continue;
    const paths = compared
      .filter((other) => other.commit === commit)
      .flatMap((other) => other.files.map((f) => f.path));
    logs.set(commit, gitLog(root, commit, [...new Set(paths)]));
  }
  // Files now identical to the healthy commit's version: that build ran an uncommitted edit of them,
  // since undone (trial 4: a slow handler verified "healthy", then reverted with git checkout; the
  // warning called the file "uncommitted" and its diff command showed nothing).
  const differing = new Map<string, Set<string> | undefined>();
  for (const { commit } of compared) {
    if (!commit || differing.has(commit) || differing.size >= MAX_GIT_CALLS) continue;
    const paths = compared
      .filter((other) => other.commit === commit)
      .flatMap((other) => other.files.filter((f) => f.change === 'modified').map((f) => f.path));
    differing.set(commit, paths.length > 0 ? gitDiffering(root, commit, [...new Set(paths)]) : undefined);
  }
  for (const service of compared) {
    const stillDiffering = service.commit ? differing.get(service.commit) : undefined;
    if (stillDiffering)
      service.files = service.files.map((file) =>
        file.change === 'modified' && !stillDiffering.has(file.path) ? { ...file, sameAsCommit: true } : file,
      );
    const mine = new Set(service.files.map((file) => file.path));
    const log = service.commit ? logs.get(service.commit) : undefined;
    found.set(service.name, {
      healthyAt: service.time,
      commit: service.commit,
      files: service.files,
      commits: (log ?? [])
        .filter((entry) => entry.paths.some((path) => mine.has(path)))
        .slice(0, MAX_COMMITS)
        .map((entry) => entry.line),
      command: service.commit ? diffCommand(service.commit, service.files, service.folders) : null,
    });
  }
  return found;
}

/**
 * The part of `changes` the running process holds. A source file written after the build PM2 runs
 * was made, or after the process started, is not in what answers now: it cannot explain a wrong
 * answer, and naming it would send the reader after an edit that does not run yet (once a restart
 * builds and runs it, it is named). A deleted file has no time: it stays. Undefined when nothing
 * changed runs. `modifiedAt` gives a repository-relative file's mtime (ms), undefined when gone.
 */
export function runningChanges(
  changes: Changes,
  modifiedAt: (path: string) => number | undefined,
  runningSince: number | undefined,
): Changes | undefined {
  const files =
    runningSince === undefined
      ? changes.files
      : changes.files.filter((file) => {
          const time = file.change === 'deleted' ? undefined : modifiedAt(file.path);
          return time === undefined || time <= runningSince + RUNNING_SLACK_MS;
        });
  if (files.length === 0) return undefined;
  if (files.length === changes.files.length) return changes;
  return {
    ...changes,
    files,
    command: changes.command?.replace(/ -- .*$/, ` -- ${files.map((file) => file.path).join(' ')}`) ?? null,
  };
}

/** A file's mtime and a process start are both kept to the millisecond; a second of slack. */
const RUNNING_SLACK_MS = 1000;

const MAX_SUMMARY_FILES = 3;

/**
 * One `changed-since-healthy` warning for each service in `changes` that no finding names: it runs
 * code that differs from the build last verified working, and nothing else was found on it. (On a
 * service with a finding, the change already rides on that finding.) The findings come first.
 */
export function changedSinceHealthyFindings(findings: Finding[], changes: Map<string, Changes>): Finding[] {
  const named = new Set(findings.map((finding) => finding.service));
  const warnings: Finding[] = [];
  for (const [service, change] of changes) {
    if (named.has(service) || change.files.length === 0) continue;
    // Only edits undone (the code is as committed again) and nothing found: most often a user
    // who reverted an experiment; a warning on every diagnose until a restart --wait would be noise.
    // On a service with a finding the change still rides on it.
    if (change.files.every((file) => file.sameAsCommit)) continue;
    const shown = change.files.slice(0, MAX_SUMMARY_FILES).map((file) => file.path);
    if (change.files.length > MAX_SUMMARY_FILES)
      shown.push(`${change.files.length - MAX_SUMMARY_FILES} more`);
    const how =
      change.commit === null
        ? ''
        : change.commits.length === 0
          ? ', uncommitted'
          : `, ${change.commits.length} commit${change.commits.length === 1 ? '' : 's'} since`;
    const what = change.command ?? change.files.map((file) => file.path).join(' ');
    warnings.push({
      kind: 'changed-since-healthy',
      service,
      severity: 'warning',
      summary: `${service} runs code changed since it last worked at ${clock(change.healthyAt)} (${shown.join(', ')}${how})`,
      evidence: [
        {
          time: change.healthyAt,
          service,
          stream: 'system',
          text: `last verified working at ${clock(change.healthyAt)}${change.commit ? ` on commit ${change.commit.slice(0, 12)}` : ''}; ${change.files.length} source file${change.files.length === 1 ? '' : 's'} of what runs now differ${change.files.length === 1 ? 's' : ''}`,
        },
      ],
      location: null,
      changes: change,
      next: `if a request to ${service} gives a wrong answer and nothing else explains it, this change is the lead: ${what}; once it works as meant, pnpm devctl restart ${service} --wait verifies it (and clears this)`,
    });
  }
  return [...findings, ...warnings];
}
