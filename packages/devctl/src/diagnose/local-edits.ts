// What the stack runs that is not the committed repository: uncommitted edits in the sources of the
// services looked at (and of the workspace packages they bundle), and settings taken from .env files
// instead of the schema's defaults. Neither is a finding -- a developer mid-edit has both -- but when
// a request gives a wrong answer and no log line says why, they are where to look first: in user
// trials every fault that left no trace (a wrong SQL column, a relative path in a .env) was found
// with `git diff` or by reading the .env, and diagnose said only "stack healthy". Shown in the
// checked lines, so an agent reading `diagnose --json` has the lead without another command.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ECOSYSTEM_FILE } from '@repo/stack-contract';
import { WEB_FOLDER } from '../ecosystem/index';
import { maskValue } from '../output/mask';
import type { Snapshot } from './collect';
import { placeText } from './config-snapshot';
import { sourcePaths, workspacePackages } from './last-healthy';

export interface LocalEdit {
  /** Repository-relative (relative to the stack's root). */
  path: string;
  change: 'modified' | 'added' | 'deleted';
}

const git = (root: string, args: string[]) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 5000,
  });

/**
 * Files under `paths` that differ from HEAD (tracked edits) or are new and not ignored. Undefined
 * outside git or when git fails. Two git calls, both bounded to the paths.
 */
export function uncommittedEdits(root: string, paths: string[]): LocalEdit[] | undefined {
  if (paths.length === 0) return [];
  try {
    const tracked = git(root, ['diff', '--name-status', '--relative', 'HEAD', '--', ...paths])
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line): LocalEdit => {
        const [status = 'M', path = ''] = line.split('\t');
        return {
          path,
          change: status.startsWith('D') ? 'deleted' : status.startsWith('A') ? 'added' : 'modified',
        };
      });
    const untracked = git(root, ['ls-files', '--others', '--exclude-standard', '--', ...paths])
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((path): LocalEdit => ({ path, change: 'added' }));
    return [...tracked, ...untracked].sort((a, b) => a.path.localeCompare(b.path));
  } catch {
    return undefined;
  }
}

const MAX_LISTED = 8;

export interface RecentCommit {
  hash: string;
  /** Commit time, ms since epoch. */
  time: number;
  subject: string;
  /** Repository-relative files it changed under the paths asked for. */
  files: string[];
}

/** How many recent commits the checked line lists, and how old one may be to be listed. */
const RECENT_COMMITS = 3;
const RECENT_DAYS = 14;

/**
 * The last commits that changed files under `paths` (newest first, at most RECENT_COMMITS, none
 * older than RECENT_DAYS). Undefined outside git or when git fails. One bounded git call.
 */
export function recentCommits(root: string, paths: string[], now = Date.now()): RecentCommit[] | undefined {
  if (paths.length === 0) return [];
  try {
    const out = git(root, [
      'log',
      `-n${RECENT_COMMITS}`,
      `--since=${Math.floor(now / 1000) - RECENT_DAYS * 86400}`,
      '--no-merges',
      '--format=%x00%h%x09%ct%x09%s',
      '--name-only',
      '--relative',
      '--',
      ...paths,
    ]);
    return out
      .split('\0')
      .filter((chunk) => chunk.trim() !== '')
      .map((chunk) => {
        const [head = '', ...rest] = chunk.split('\n');
        const [hash = '', time = '0', ...subject] = head.split('\t');
        return {
          hash,
          time: Number(time) * 1000,
          subject: subject.join('\t'),
          files: rest.filter((line) => line.trim() !== ''),
        };
      });
  } catch {
    return undefined;
  }
}

/** `5 min ago`, `3 h ago`, `2 days ago`. */
export function ago(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** How the checked lines that list local edits begin (render.ts points at them when all is well). */
export const EDITS_LINE = 'uncommitted edits in what the services run (git diff HEAD -- <file>): ';
export const SETTINGS_LINE = 'settings from .env files instead of defaults (pnpm devctl env <service>): ';
export const COMMITS_LINE = 'recent commits in what the services run (git show <commit> -- <file>): ';

export const WEB_EDITS_LINE = `uncommitted edits in the frontend (${WEB_FOLDER}, not under PM2; git diff HEAD -- <file>): `;
export const WEB_COMMITS_LINE = `recent commits in the frontend (${WEB_FOLDER}; git show <commit> -- <file>): `;

/**
 * The frontend's own edits and commits, when the whole stack is looked at. A fault in the page's code
 * logs nothing in any service: its request answers 2xx (and the page misreads the answer), or it is
 * never sent (trial 16: a thank-you card formatting a date the answer does not carry said "Invalid
 * time value" after a 201; a cache of GET answers kept every list stale). The services' lines do not
 * list apps/web, so diagnose said nothing crashes and named only the services' leads, none of them
 * on the path of the fault. Listed only when there is one: a frontend nobody touched is no lead.
 */
function frontendLines(root: string, now: number): string[] {
  if (!existsSync(join(root, WEB_FOLDER))) return [];
  const lines: string[] = [];
  // What the page runs: its tests (the browser tests in e2e/, component tests beside the code) are not.
  const paths = [WEB_FOLDER, `:(exclude)${WEB_FOLDER}/e2e`, `:(exclude,glob)${WEB_FOLDER}/**/*.test.*`];
  const edits = uncommittedEdits(root, paths) ?? [];
  if (edits.length > 0) {
    const described = edits.map((edit) => `${edit.path} (${edit.change})`);
    lines.push(
      `${WEB_EDITS_LINE}${described.slice(0, MAX_LISTED).join(', ')}${described.length > MAX_LISTED ? `, and ${described.length - MAX_LISTED} more` : ''}`,
    );
  }
  const commits = recentCommits(root, paths, now) ?? [];
  if (commits.length > 0)
    lines.push(
      `${WEB_COMMITS_LINE}${commits.map((commit) => commitText(commit, now, undefined)).join(', ')}`,
    );
  return lines;
}

/** `<hash> 5 min ago "<subject>" (<files>[; <who>])`, as the commit lines list one. */
function commitText(commit: RecentCommit, now: number, who: string | undefined): string {
  const files = commit.files.length <= 3 ? commit.files.join(' ') : `${commit.files.length} files`;
  const subject = commit.subject.length > 80 ? `${commit.subject.slice(0, 77)}...` : commit.subject;
  return `${commit.hash} ${ago(now - commit.time)} "${subject}" (${files}${who === undefined ? '' : `; ${who}`})`;
}

/**
 * The checked lines: uncommitted edits in what the looked-at services run, and their .env settings;
 * when every service is looked at, the frontend's edits and commits too.
 */
export function localEditLines(snapshot: Snapshot): string[] {
  const root = snapshot.ecosystem.root;
  const looked = snapshot.services.filter(
    (service) => snapshot.selected.has(service.entry.name) && service.entry.kind === 'service',
  );
  const lines: string[] = [];
  const packages = workspacePackages(root);
  // ecosystem.config.js is what PM2 runs every service with (its env, instances, script): an edit
  // there is an edit of what each service runs (trial 18: an uncommitted WORKER_POLL_INTERVAL_MS
  // of a minute in its env delayed every e-mail, and diagnose said "uncommitted edits: none").
  const pathsOf = new Map(
    looked.map((service) => [
      service.entry.name,
      [...sourcePaths(root, service.entry.folder, packages), ECOSYSTEM_FILE],
    ]),
  );
  const edits = uncommittedEdits(root, [...new Set([...pathsOf.values()].flat())]);
  if (edits !== undefined) {
    const described = edits.map((edit) => {
      const users = [...pathsOf].filter(([, paths]) =>
        paths.some((path) => edit.path === path || edit.path.startsWith(`${path}/`)),
      );
      const who =
        users.length === looked.length && looked.length > 1
          ? 'every service'
          : users.map(([name]) => name).join(', ');
      return `${edit.path} (${edit.change}; ${who})`;
    });
    lines.push(
      described.length === 0
        ? 'uncommitted edits in what the services run (git diff HEAD): none'
        : `${EDITS_LINE}${described.slice(0, MAX_LISTED).join(', ')}${described.length > MAX_LISTED ? `, and ${described.length - MAX_LISTED} more` : ''}`,
    );
  }
  // A commit is no edit, yet a change committed and restarted is as likely the cause of a wrong
  // answer (trial 8: a validation rule broken by a commit, restarted with a healthy verdict, which
  // made it the build last verified healthy; only `git log` found it).
  const commits = recentCommits(root, [...new Set([...pathsOf.values()].flat())], snapshot.now);
  if (commits !== undefined && commits.length > 0) {
    const described = commits.map((commit) => {
      const users = [...pathsOf].filter(([, paths]) =>
        commit.files.some((file) => paths.some((path) => file === path || file.startsWith(`${path}/`))),
      );
      const who =
        users.length === looked.length && looked.length > 1
          ? 'every service'
          : users.map(([name]) => name).join(', ');
      return commitText(commit, snapshot.now, who);
    });
    lines.push(`${COMMITS_LINE}${described.join(', ')}`);
  }
  if (snapshot.config) {
    const settings = looked.flatMap((service) =>
      [...(snapshot.config?.configs.get(service.entry.name)?.variables.values() ?? [])]
        // A .env line that sets the schema's default changes nothing: not a lead. (Settings in
        // ecosystem.config.js are left to its own edits and commits lines: a fixture or project
        // that sets them for good would never read as healthy.)
        .filter((variable) => variable.source.endsWith('.env') && variable.value !== variable.default)
        .map(
          (variable) =>
            `${service.entry.name} ${variable.name}=${maskValue(variable.name, variable.value ?? '')} (${placeText(variable.place)})`,
        ),
    );
    if (settings.length > 0) lines.push(`${SETTINGS_LINE}${settings.join(', ')}`);
  }
  if (looked.length === snapshot.ecosystem.services.length) lines.push(...frontendLines(root, snapshot.now));
  return lines;
}
