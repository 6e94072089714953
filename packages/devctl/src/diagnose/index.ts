// devctl diagnose: collect the evidence once, run every detector on it, attribute root causes.
// Also the verdict `restart --wait` ends with.
import { type Ecosystem, loadEcosystem, resolveServices } from '../ecosystem/index';
import { changesSinceHealthy, withChanges } from './changes';
import { collect, type ServiceSnapshot, type Snapshot } from './collect';
import { configCheckedLine } from './config-snapshot';
import { detectors } from './detectors/index';
import { clock, mib } from './detectors/shared';
import { readLastHealthy, recordHealthy } from './last-healthy';
import { attributeRootCauses } from './root-cause';
import { writeSnapshotFile } from './snapshot-file';
import type { DiagnoseReport, Finding } from './types';

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
  ecosystem?: Ecosystem;
  /** How long memory is watched when a process looks like it grows (default 1500 ms). */
  memoryWindowMs?: number;
}

function probeText(probe: ServiceSnapshot['health']): string {
  if (!probe) return 'not probed';
  return probe.status ? String(probe.status) : (probe.error ?? 'failed');
}

function checkedLines(snapshot: Snapshot): string[] {
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
    parts.push(
      `logs since ${service.since ? clock(service.since) : 'the start of the tail'} (${errors} error${errors === 1 ? '' : 's'})`,
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
      parts.push(
        `memory ${service.memory.map((sample) => Math.round(sample.bytes / 1048576)).join(' ')} MiB over ${seconds} s`,
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
    memoryWindowMs: options.memoryWindowMs,
  });
  if (process.env.DEVCTL_RECORD_SNAPSHOT) writeSnapshotFile(snapshot, process.env.DEVCTL_RECORD_SNAPSHOT);
  const candidates = detectors.flatMap((detect) => detect(snapshot));
  const findings = withChangesSinceHealthy(snapshot, attributeRootCauses(candidates, snapshot.selected));
  return { healthy: findings.length === 0, checked: checkedLines(snapshot), findings };
}

/** A service diagnose saw online, answering /health, and named in no finding. */
function seenHealthy(service: ServiceSnapshot, findings: Finding[]): boolean {
  return (
    service.state === 'online' &&
    service.health?.ok === true &&
    !findings.some((finding) => finding.service === service.entry.name)
  );
}

/**
 * Names what changed since each finding's service last worked, then records the services that
 * work now (after, so a service is never compared with a record this same run wrote).
 */
function withChangesSinceHealthy(snapshot: Snapshot, findings: Finding[]): Finding[] {
  const root = snapshot.ecosystem.root;
  const named = new Set(findings.map((finding) => finding.service));
  const withFindings = snapshot.services.filter((service) => named.has(service.entry.name));
  let enriched = findings;
  if (withFindings.length > 0) {
    const changes = changesSinceHealthy(
      root,
      withFindings.map((service) => ({ name: service.entry.name, folder: service.entry.folder })),
      readLastHealthy(root),
    );
    if (changes.size > 0) enriched = withChanges(findings, (service) => changes.get(service));
  }
  recordHealthy(
    root,
    snapshot.services
      .filter((service) => seenHealthy(service, findings))
      .map((service) => ({ service: service.entry, startedAt: service.process?.startedAt })),
  );
  return enriched;
}

/**
 * The verdict at the end of `restart --wait`: healthy with no new error since `since` (the
 * restart), or the new problems as findings (most severe first). Same shape as diagnose --json.
 */
export function verdictAfterRestart(services: string[], since: Date): Promise<DiagnoseReport> {
  return diagnose({ names: services, since });
}

export { renderReport } from './render';
