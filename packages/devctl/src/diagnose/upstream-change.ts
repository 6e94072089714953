// A service that fails on what another answered it: the failing request's own hops show that a
// stack service it called answered it 2xx moments before it failed, and that service's code for the
// route that answered changed (a commit, an uncommitted edit) more recently than the failing
// service's own code. Every log then points at the caller (its error, its stack), yet the change
// that broke it is in the service it called (trial 11: data-service's GET /forms/:id/submissions
// answered `{items}` instead of `{submissions}`, with its own schema changed to match, so only
// form-service failed: "fix services/form/src/routes/submissions.ts"). That change becomes the lead
// of the caller's finding, with the command that shows it; the finding stays on the caller, where
// the failure is, and nothing is said when the caller changed after the service it called (its own
// change is then the likelier cause) or when the route's code did not change.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ECOSYSTEM_FILE } from '@repo/stack-contract';
import type { Snapshot } from './collect';
import { ago, type RecentCommit, recentCommits, uncommittedEdits } from './local-edits';
import { type Hop, hopsOf } from './requests';
import type { Finding } from './types';

/** One change to a service's sources: when, what, and the command that shows it. */
export interface SourceChange {
  file: string;
  time: number;
  /** `commit 1278fce "data: ..."` or `an uncommitted edit`. */
  what: string;
  command: string;
}

/** What changed in the files under `folder`: its uncommitted edits (at their mtime) and its recent commits. */
export interface ChangeSource {
  changesUnder(folder: string): SourceChange[];
}

/** The repository's changes, from git (and the files' modification times for uncommitted edits). */
export function gitChanges(root: string, now: number): ChangeSource {
  // One diagnose asks for a folder from several steps (upstream, refusal and own-change leads): git once.
  const known = new Map<string, SourceChange[]>();
  const read = (serviceFolder: string): SourceChange[] => {
    // What runs: its src/ when it has one (a test edited alongside is no lead), and ecosystem.config.js,
    // which PM2 runs every service with (trial 19: JWT_TTL '1m' added to auth-service's env there; the
    // refusal's lead was a formatting commit of 13 h before).
    const folder = existsSync(join(root, serviceFolder, 'src')) ? `${serviceFolder}/src` : serviceFolder;
    const paths = [folder, ECOSYSTEM_FILE];
    const changes: SourceChange[] = [];
    for (const edit of uncommittedEdits(root, paths) ?? []) {
      if (edit.change === 'deleted') continue;
      let time: number;
      try {
        time = statSync(join(root, edit.path)).mtimeMs;
      } catch {
        continue;
      }
      changes.push({
        file: edit.path,
        time,
        what: 'an uncommitted edit',
        command: `git diff HEAD -- ${edit.path}`,
      });
    }
    for (const commit of recentCommits(root, paths, now) ?? []) changes.push(...commitChanges(commit));
    return changes.sort((a, b) => b.time - a.time);
  };
  return {
    changesUnder(serviceFolder) {
      let changes = known.get(serviceFolder);
      if (!changes) {
        changes = read(serviceFolder);
        known.set(serviceFolder, changes);
      }
      return changes;
    },
  };
}

function commitChanges(commit: RecentCommit): SourceChange[] {
  const subject = commit.subject.length > 70 ? `${commit.subject.slice(0, 67)}...` : commit.subject;
  return commit.files.map((file) => ({
    file,
    time: commit.time,
    what: `commit ${commit.hash} "${subject}"`,
    command: `git show ${commit.hash} -- ${file}`,
  }));
}

/**
 * The route paths a source file declares (`app.get('/forms/:id/submissions', ...)`, `url:
 * '/items/:id'`): string literals that look like a path, `:param` segments as wildcards.
 */
export function declaredRoutes(source: string): RegExp[] {
  const routes: RegExp[] = [];
  for (const match of source.matchAll(/['"`](\/[\w\-./:{}*]*)['"`]/g)) {
    const path = match[1] as string;
    const pattern = path
      .split('/')
      .map((segment) =>
        segment.startsWith(':') || /^\{.*\}$/.test(segment) || segment === '*'
          ? '[^/]+'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    routes.push(new RegExp(`^${pattern}/?$`));
  }
  return routes;
}

const pathOf = (url: string) => url.split('?')[0] ?? url;

/** Leeway for the log times of hops of one request on one machine. */
const CLOCK_SLACK_MS = 50;

/**
 * The findings, where a request failed in a service right after another stack service answered it,
 * and that service's code for the answering route changed after the failing service's own code,
 * with that change as the lead of the finding's `next`.
 */
export function withUpstreamChanges(
  snapshot: Snapshot,
  findings: Finding[],
  source: ChangeSource = gitChanges(snapshot.ecosystem.root, snapshot.now),
): Finding[] {
  const candidates = findings.filter((f) => f.kind === 'request-error' && f.requestId !== undefined);
  if (candidates.length === 0) return findings;
  const folderOf = new Map(snapshot.services.map((s) => [s.entry.name, s.entry.folder]));
  const hops: Hop[] = snapshot.services.flatMap((service) => hopsOf(service));
  const changesOf = (folder: string) => source.changesUnder(folder);
  const root = snapshot.ecosystem.root;
  return findings.map((finding) => {
    if (!candidates.includes(finding)) return finding;
    const failing = hops
      .filter(
        (h) => h.service === finding.service && h.requestId === finding.requestId && (h.status ?? 0) >= 500,
      )
      .at(-1);
    const ownFolder = folderOf.get(finding.service);
    if (!failing || failing.start === undefined || failing.end === undefined || !ownFolder) return finding;
    const failedAt = failing.end;
    const answered = hops.filter(
      (h) =>
        h.requestId === finding.requestId &&
        h.service !== finding.service &&
        h.start !== undefined &&
        h.end !== undefined &&
        h.start >= (failing.start as number) - CLOCK_SLACK_MS &&
        h.end <= failedAt + CLOCK_SLACK_MS &&
        h.status !== undefined &&
        h.status >= 200 &&
        h.status < 300 &&
        h.url !== undefined,
    );
    if (answered.length === 0) return finding;
    // Its own code's last change before the failure: a change of the service it called must be newer.
    const ownChange = changesOf(ownFolder).find((change) => change.time <= failedAt);
    // The answer closest to the failure first: the one the failing code was handling (form-service
    // fetches the form, then its submissions: the second answer is what broke it).
    for (const hop of answered.sort((a, b) => (b.end as number) - (a.end as number))) {
      const folder = folderOf.get(hop.service);
      if (!folder) continue;
      const path = pathOf(hop.url as string);
      const change = changesOf(folder).find((candidate) => {
        if (candidate.time > failedAt) return false;
        if (ownChange && candidate.time <= ownChange.time) return false;
        let text: string;
        try {
          text = readFileSync(join(root, candidate.file), 'utf8');
        } catch {
          return false;
        }
        return declaredRoutes(text).some((route) => route.test(path));
      });
      if (!change) continue;
      const answer = `${hop.service} answered ${hop.status} to ${hop.method ?? ''} ${path} in this request`;
      const since = ownChange
        ? `${finding.service}'s own code last changed ${ago(snapshot.now - ownChange.time)}`
        : `${finding.service}'s code has no recent change`;
      return {
        ...finding,
        summary: `${finding.summary}; it failed on ${hop.service}'s answer: ${answer}, and ${change.file}, which declares that route, changed ${ago(snapshot.now - change.time)} (${change.what}); ${since}`,
        evidence: [
          ...finding.evidence,
          {
            time: new Date(hop.end as number).toISOString(),
            service: hop.service,
            stream: 'system' as const,
            text: `${answer}; ${change.file} changed ${ago(snapshot.now - change.time)} (${change.what}): ${change.command}`,
          },
        ],
        next: `start from ${hop.service}'s change to the route that answered (${finding.service} may expect its old answer): ${change.command}; then ${finding.next}`,
      };
    }
    return finding;
  });
}

/** How old a commit may be to lead: older ones were there while the stack worked. */
const RECENT_CHANGE_MAX_AGE_MS = 24 * 3_600_000;

/**
 * The findings, where a service keeps refusing requests (`requests-refused`) and the code of a
 * service that decides what it accepts (itself and its `mustMatch` partners: the token's issuer)
 * changed recently, with the newest such change in the summary and at the head of `next` (trial 12:
 * auth-service's commit changed the token issuer in its code, the gateway refused every token with
 * "claim iss not accepted", and the settings the finding pointed at were all defaults).
 */
export function withRefusalChanges(
  snapshot: Snapshot,
  findings: Finding[],
  deciding: (service: string) => string[],
  source: ChangeSource = gitChanges(snapshot.ecosystem.root, snapshot.now),
): Finding[] {
  const folderOf = new Map(snapshot.services.map((s) => [s.entry.name, s.entry.folder]));
  return findings.map((finding) => {
    if (finding.kind !== 'requests-refused') return finding;
    const firstRefusal = Math.min(...finding.evidence.map((e) => Date.parse(e.time)).filter(Number.isFinite));
    // Those that decide what it accepts, and its callers that it refused (a route they call).
    const newest = [...new Set([...deciding(finding.service), ...(finding.affects ?? [])])]
      .flatMap((service) => {
        const folder = folderOf.get(service);
        if (!folder) return [];
        return source
          .changesUnder(folder)
          .filter(
            (change) =>
              snapshot.now - change.time <= RECENT_CHANGE_MAX_AGE_MS &&
              (!Number.isFinite(firstRefusal) || change.time <= firstRefusal),
          )
          .map((change) => ({ service, change }));
      })
      .sort((a, b) => b.change.time - a.change.time)[0];
    if (!newest) return finding;
    const { service, change } = newest;
    const whose =
      service === finding.service
        ? `${service}'s own code`
        : `the code of ${service}, which decides it with ${finding.service}`;
    return {
      ...finding,
      summary: `${finding.summary}; the newest change in ${whose}: ${change.file} ${ago(snapshot.now - change.time)} (${change.what})`,
      next: `read the newest change in what decides it first: ${change.command}; or ${finding.next}`,
    };
  });
}

/** Findings of a failure in code whose stack did not say where: the service's own newest change leads. */
const OWN_CHANGE_KINDS: ReadonlySet<Finding['kind']> = new Set([
  // Requests hung on several routes (a hook, a plugin): no handler's line to point at.
  'slow-request',
  'uncaught-exception',
  'unhandled-rejection',
  'request-error',
]);

/**
 * The findings, where a service failed in code with no `where:` (its stack holds no line of its
 * own: a promise nobody awaited, a shared client reading another service's answer) and nothing led
 * its `next` yet, with its own newest change (an uncommitted edit, or a commit of the last day made
 * before the failure) as the lead (trial 13: a worker's un-awaited send, an uncommitted edit; the
 * change since it last worked was none, as the edit had been restarted with a healthy verdict).
 */
export function withOwnChangeLeads(
  snapshot: Snapshot,
  findings: Finding[],
  source: ChangeSource = gitChanges(snapshot.ecosystem.root, snapshot.now),
): Finding[] {
  const folderOf = new Map(snapshot.services.map((s) => [s.entry.name, s.entry.folder]));
  return findings.map((finding) => {
    if (
      finding.location !== null ||
      !OWN_CHANGE_KINDS.has(finding.kind) ||
      finding.next.startsWith('start from')
    )
      return finding;
    const folder = folderOf.get(finding.service);
    if (!folder) return finding;
    const failedAt = Math.max(...finding.evidence.map((e) => Date.parse(e.time)).filter(Number.isFinite));
    const change = source
      .changesUnder(folder)
      .find(
        (candidate) =>
          snapshot.now - candidate.time <= RECENT_CHANGE_MAX_AGE_MS &&
          (!Number.isFinite(failedAt) || candidate.time <= failedAt),
      );
    if (!change) return finding;
    return {
      ...finding,
      next: `start from ${finding.service}'s newest change, ${change.what} ${ago(snapshot.now - change.time)}: ${change.command}; then ${finding.next}`,
    };
  });
}
