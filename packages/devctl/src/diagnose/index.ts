// devctl diagnose: collect the evidence once, run every detector on it, attribute root causes.
// Also the verdict `restart --wait` ends with.

import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Ecosystem, loadEcosystem, resolveServices } from '../ecosystem/index';
import { changedSinceHealthyFindings, changesSinceHealthy, runningChanges, withChanges } from './changes';
import { collect, type ServiceSnapshot, type Snapshot } from './collect';
import { configCheckedLine } from './config-snapshot';
import { restartsMet } from './detectors/dependency';
import { detectors } from './detectors/index';
import { SETTLING_MS, steadyGrowth, tooYoungToJudge } from './detectors/memory';
import { decidingServices } from './detectors/refused';
import { clock, mib } from './detectors/shared';
import { type HealthyRecord, readLastHealthy, recordHealthy, verifiedByDiagnose } from './last-healthy';
import { localEditLines } from './local-edits';
import { describeRestarts } from './restart-windows';
import { attributeRootCauses } from './root-cause';
import { writeSnapshotFile } from './snapshot-file';
import type { Changes, DiagnoseReport, Finding } from './types';
import { gitChanges, withOwnChangeLeads, withRefusalChanges, withUpstreamChanges } from './upstream-change';

export { type HealthySighting, recordHealthy } from './last-healthy';
export type {
  Changes,
  DiagnoseReport,
  Evidence,
  FileChange,
  Finding,
  FindingKind,
  Severity,
  SourceLocation,
} from './types';

export interface DiagnoseOptions {
  /** PM2 names; every service of the ecosystem when empty. Unknown names are a usage error. */
  names?: string[];
  /** Only errors since this time count for the named services (instead of their last start). */
  since?: Date;
  /**
   * `diagnose --since`: nothing before this time counts, for any service (errors, relays, crashes),
   * whatever their last start: "did anything fail since my fix?"
   */
  notBefore?: Date;
  ecosystem?: Ecosystem;
  /** How long memory is watched when a process looks like it grows (default 1500 ms). */
  memoryWindowMs?: number;
  /**
   * The verdict of `restart --wait`: no `changed-since-healthy` warning (the restart is what
   * verifies the change) and no recording (the restart records what its verdict finds healthy).
   */
  verifying?: boolean;
}

function probeText(probe: ServiceSnapshot['health']): string {
  if (!probe) return 'not probed';
  return probe.status ? String(probe.status) : (probe.error ?? 'failed');
}

export function checkedLines(snapshot: Snapshot, findings: Finding[]): string[] {
  const lines = [
    snapshot.daemonRunning
      ? `PM2 daemon (PM2_HOME=${snapshot.pm2Home}): running; its log of starts, exits and restarts`
      : `PM2 daemon (PM2_HOME=${snapshot.pm2Home}): not running`,
  ];
  for (const service of snapshot.services) {
    if (!snapshot.selected.has(service.entry.name)) continue;
    const parts: string[] = [service.state + (service.process?.pid ? ` (pid ${service.process.pid})` : '')];
    const errors = service.errors.filter(
      (e) => e.level >= 50 && (service.since === undefined || e.time >= service.since),
    ).length;
    // Errors that no finding names were judged not current (most often history: a restart asked for
    // since, of an upstream they relayed): said so, or "(2 errors)" beside "stack healthy" reads as
    // a miss and sends the reader to the logs.
    const named = findings.some(
      (finding) => finding.service === service.entry.name || finding.affects?.includes(service.entry.name),
    );
    // Errors that only met the restart of a service they call are said to be that (dependency.ts).
    const met = restartsMet(snapshot, service);
    const metErrors = Math.min(met.errors, errors);
    const during = describeRestarts(met.restarts);
    const metText =
      metErrors === 0
        ? ''
        : metErrors === errors
          ? ` while ${during}`
          : `, ${metErrors} of them while ${during}`;
    parts.push(
      `logs since ${service.since ? clock(service.since) : 'the start of the tail'} (${errors} error${errors === 1 ? '' : 's'}${metText}${errors > 0 && !named ? `, none a current finding` : ''})`,
    );
    if (service.state === 'online') {
      parts.push(`/health ${probeText(service.health)}`, `/ready ${probeText(service.ready)}`);
    }
    if (service.entry.port !== undefined) {
      parts.push(
        `port ${service.entry.port} ${service.portHolder ? `held by pid ${service.portHolder.pid ?? '?'}` : 'ok'}`,
      );
    }
    const last = service.memory[service.memory.length - 1];
    const first = service.memory[0];
    if (first && last && service.memory.length > 2) {
      const seconds = ((last.time - first.time) / 1000).toFixed(1);
      // Growth the memory detector leaves unjudged (a young heap) is said here, not dropped.
      const young =
        steadyGrowth(service.memory) !== undefined && tooYoungToJudge(service, snapshot.now)
          ? ` (growing, but the process is ${Math.round((snapshot.now - (service.process?.startedAt ?? 0)) / 1000)} s old: growth is not judged before ${SETTLING_MS / 1000} s of uptime; diagnose again then)`
          : '';
      parts.push(
        `memory ${service.memory.map((sample) => Math.round(sample.bytes / 1048576)).join(' ')} MiB over ${seconds} s${young}`,
      );
    } else if (last) parts.push(`memory ${mib(last.bytes)}`);
    for (const dependency of service.dependencies) {
      if (dependency.kind === 'service') continue;
      const reason = snapshot.external.get(`${dependency.host}:${dependency.port}`);
      parts.push(
        `${dependency.kind} ${dependency.host}:${dependency.port} ${reason === null ? 'reachable' : (reason ?? 'not checked')}`,
      );
    }
    lines.push(`${service.entry.name}: ${parts.join(', ')}`);
  }
  lines.push(...localEditLines(snapshot));
  if (snapshot.config) lines.push(configCheckedLine(snapshot.config));
  return lines;
}

export async function diagnose(options: DiagnoseOptions = {}): Promise<DiagnoseReport> {
  const ecosystem = options.ecosystem ?? loadEcosystem();
  const selected = resolveServices(ecosystem, options.names ?? []).map((service) => service.name);
  const snapshot = await collect({
    ecosystem,
    selected: options.names && options.names.length > 0 ? selected : [],
    since: options.since?.getTime(),
    notBefore: options.notBefore?.getTime(),
    memoryWindowMs: options.memoryWindowMs,
  });
  if (process.env.DEVCTL_RECORD_SNAPSHOT) writeSnapshotFile(snapshot, process.env.DEVCTL_RECORD_SNAPSHOT);
  const candidates = detectors.flatMap((detect) => detect(snapshot));
  const rooted = withChangesSinceHealthy(
    snapshot,
    attributeRootCauses(candidates, snapshot.selected),
    options.verifying === true,
  );
  // One source of git changes for the three lead steps: each folder is read from git once.
  const changes = gitChanges(ecosystem.root, snapshot.now);
  const findings = withOwnChangeLeads(
    snapshot,
    withRefusalChanges(
      snapshot,
      withUpstreamChanges(snapshot, rooted, changes),
      (service) => decidingServices(snapshot, service),
      changes,
    ),
    changes,
  );
  return { healthy: findings.length === 0, checked: checkedLines(snapshot, findings), findings };
}

/**
 * True when the process runs the build that was verified working: the script on disk is that build
 * (same size and time) and the process started after it was written.
 */
function runsVerifiedBuild(service: ServiceSnapshot, record: HealthyRecord | undefined): boolean {
  if (!record || record.buildSize === null || record.buildMtimeMs === null) return false;
  try {
    const build = statSync(resolve(service.entry.cwd, service.entry.script));
    const startedAt = service.process?.startedAt;
    return (
      build.size === record.buildSize &&
      build.mtimeMs === record.buildMtimeMs &&
      startedAt !== undefined &&
      startedAt >= build.mtimeMs
    );
  } catch {
    return false;
  }
}

/** When the code that runs was made: the older of its build (the script PM2 runs) and its start. */
function runningSince(service: ServiceSnapshot): number | undefined {
  let built: number | undefined;
  try {
    built = statSync(resolve(service.entry.cwd, service.entry.script)).mtimeMs;
  } catch {
    // no build on disk: the start alone says
  }
  const times = [built, service.process?.startedAt].filter((time) => time !== undefined);
  return times.length > 0 ? Math.min(...times) : undefined;
}

const modifiedAt = (root: string) => (path: string) => {
  try {
    return statSync(join(root, path)).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * Names what changed since each finding's service last worked; warns of a service that runs changed
 * code with nothing else found on it (the lead for a wrong answer); then, when nothing in the
 * report is an error, records the services that work now as verified (after, so a service is never
 * compared with a record this same run wrote). A stack with an error anywhere is not "working":
 * a service that only answers /health may still give wrong answers, so nothing is recorded then.
 * `verifying` (restart --wait's verdict): neither warns nor records; the caller records what it verified.
 */
function withChangesSinceHealthy(snapshot: Snapshot, findings: Finding[], verifying: boolean): Finding[] {
  const root = snapshot.ecosystem.root;
  const state = readLastHealthy(root);
  const named = new Set(findings.map((finding) => finding.service));
  const withFindings = snapshot.services.filter((service) => named.has(service.entry.name));
  // Looked at, online, with a record and no finding: its changes, if it runs any, are the warning.
  // A process started from the very build that was verified runs none of the sources changed since
  // (trial 6: after a git pull, three services were said to "run code changed", a deleted file).
  const quiet = verifying
    ? []
    : snapshot.services.filter(
        (service) =>
          snapshot.selected.has(service.entry.name) &&
          service.entry.kind === 'service' &&
          service.state === 'online' &&
          !named.has(service.entry.name) &&
          state[service.entry.name] !== undefined &&
          !runsVerifiedBuild(service, state[service.entry.name]),
      );
  let enriched = findings;
  const compared = [...withFindings, ...quiet];
  if (compared.length > 0) {
    const changes = changesSinceHealthy(
      root,
      compared.map((service) => ({ name: service.entry.name, folder: service.entry.folder })),
      state,
    );
    if (changes.size > 0) {
      enriched = withChanges(findings, (service) => (named.has(service) ? changes.get(service) : undefined));
      const running = new Map<string, Changes>();
      for (const service of quiet) {
        const changed = changes.get(service.entry.name);
        const runs = changed && runningChanges(changed, modifiedAt(root), runningSince(service));
        if (runs) running.set(service.entry.name, runs);
      }
      enriched = changedSinceHealthyFindings(enriched, running);
    }
  }
  if (!verifying) {
    const verified = new Set(
      verifiedByDiagnose(
        enriched,
        snapshot.services.map((service) => ({
          name: service.entry.name,
          kind: service.entry.kind,
          state: service.state,
          healthOk: service.health?.ok === true,
        })),
      ),
    );
    recordHealthy(
      root,
      snapshot.services
        .filter((service) => verified.has(service.entry.name))
        .map((service) => ({ service: service.entry, startedAt: service.process?.startedAt })),
    );
  }
  return enriched;
}

/**
 * The verdict at the end of `restart --wait`: healthy with no new error since `since` (the
 * restart), or the new problems as findings (most severe first). Same shape as diagnose --json.
 */
export function verdictAfterRestart(services: string[], since: Date): Promise<DiagnoseReport> {
  return diagnose({ names: services, since, verifying: true });
}

export { renderReport } from './render';
