// The shapes diagnose produces. `DiagnoseReport` is what `devctl diagnose --json` prints; its fields
// are documented in docs/diagnose.md and stay stable across versions (new kinds may be added).

export type Severity = 'error' | 'warning';

export type FindingKind =
  | 'config-error'
  | 'build-error'
  /** Two services disagree on a setting that must match (a shared secret, a service URL and its port). */
  | 'config-mismatch'
  /** The .env files changed after the process started: it runs on older configuration. */
  | 'config-stale'
  | 'uncaught-exception'
  | 'unhandled-rejection'
  | 'request-error'
  | 'logged-error'
  | 'crash-loop'
  | 'port-conflict'
  | 'dependency-unreachable'
  | 'module-not-found'
  | 'unhealthy'
  | 'memory-growth'
  | 'stopped'
  | 'missing'
  | 'slow-request'
  /** Requests a service keeps refusing for one reason (a 401 on every call), with the settings that decide it. */
  | 'requests-refused'
  | 'data-fault'
  /** Runs sources that differ from the build last verified working, and nothing else was found on it. */
  | 'changed-since-healthy';

/** One piece of evidence: a log line (with its time), a PM2 event, a probe answer or a fact. */
export interface Evidence {
  /** ISO time the line was written or the fact observed. */
  time: string;
  /** Whose evidence it is (a finding about data-service can quote form-service's log). */
  service: string;
  /** `out` / `err` (the service's logs), `pm2` (PM2's daemon log), `probe` (HTTP), `system` (/proc, PM2 state). */
  stream: 'out' | 'err' | 'pm2' | 'probe' | 'system';
  text: string;
}

/** A repository-relative source position, e.g. services/form/src/routes/submit.ts:12:9. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** A source file that differs from when the service was last seen healthy. */
export interface FileChange {
  /** Repository-relative path. */
  path: string;
  change: 'modified' | 'added' | 'deleted';
  /**
   * True when the file is now as it is in the commit of the build that last worked: that build ran
   * an uncommitted edit of it, since undone (`git diff <commit>` shows nothing for it).
   */
  sameAsCommit?: true;
}

/** What changed in a service's sources since devctl last saw it healthy (see docs/diagnose.md). */
export interface Changes {
  /** ISO time the service was last verified working (start/restart --wait, a diagnose with no error). */
  healthyAt: string;
  /** The commit checked out when that build was first seen healthy; null outside git. */
  commit: string | null;
  /** Source files of the service and of the workspace packages it bundles that differ since then. */
  files: FileChange[];
  /** Commits since then that touch those files, newest first, as `<short sha> <subject>` (at most 5). */
  commits: string[];
  /** The command that shows the diff, e.g. `git diff 1a2b3c4d5e6f -- services/form/src/x.ts`; null outside git. */
  command: string | null;
}

export interface Finding {
  kind: FindingKind;
  /** The PM2 name of the service at fault (the root cause), or `all`. */
  service: string;
  severity: Severity;
  /** One line: what is wrong. */
  summary: string;
  evidence: Evidence[];
  location: SourceLocation | null;
  /** The next step: the exact command to run, or the file and line to edit. */
  next: string;
  /**
   * The id of the latest failed request this finding explains (`x-request-id`), when the failure
   * was part of a request: `pnpm devctl trace <requestId>` follows it across the services.
   */
  requestId?: string;
  /** The services that fail because of this one (they relayed its failure), when there are any. */
  affects?: string[];
  /** What changed in the service's sources since it last worked; absent when nothing did or unknown. */
  changes?: Changes;
}

export interface DiagnoseReport {
  /** True when there is no finding at all. */
  healthy: boolean;
  /** What was looked at, one short line each (e.g. "form-service: PM2 state, logs, /health, /ready"). */
  checked: string[];
  /** Most severe first. */
  findings: Finding[];
}
