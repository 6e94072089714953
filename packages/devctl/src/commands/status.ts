// `devctl status`: one line per backend of this project's namespace, with a live /health probe.
// A stopped daemon is not an error for a listing: it prints one line saying so and how to start,
// and exits 0 (the JSON says `daemon.running: false`).

import { type Ecosystem, loadEcosystem, resolveServices } from '../ecosystem/index';
import { c } from '../output/colors';
import { formatBytes, formatDuration } from '../output/format';
import { renderTable } from '../output/table';
import { listProcesses, pm2Home } from '../pm2/index';
import { isRunningState, type ServiceState, serviceState } from '../pm2/state';
import type { ProcessInfo } from '../pm2/types';
import { type HealthResult, probeHealth } from '../ports/health';
import { describeHolder, isOwnLeftover, isPortListening, portHolder } from '../ports/holders';

export interface StatusOptions {
  names: string[];
  json: boolean;
}

/** One service in `devctl status --json` (documented in the README; never an environment value). */
export interface ServiceStatus {
  name: string;
  /** `tool` for an app marked `devctl_role: 'tool'` (the log rotator): no port, no /health. */
  kind: 'service' | 'tool';
  status: ServiceState;
  /** PM2's own status word, or null when PM2 does not know the service. */
  pm2Status: string | null;
  /** False for a process of this namespace that ecosystem.config.js no longer declares. */
  inEcosystem: boolean;
  pmId: number | null;
  pid: number | null;
  port: number | null;
  health: HealthResult | null;
  cpu: number;
  memoryBytes: number;
  uptimeMs: number | null;
  restarts: number;
  unstableRestarts: number;
  exitCode: number | null;
}

/** A port of a service that is not running, held by some process (often one left from an earlier run). */
export interface PortLeftover {
  service: string;
  port: number;
  pid: number | null;
  command: string | null;
  /** Under the repository and supervised by no PM2 daemon (e.g. after the daemon was killed). */
  orphan: boolean;
}

export interface StatusReport {
  namespace: string;
  daemon: { running: boolean; pm2Home: string };
  services: ServiceStatus[];
  /** Ports of services that are not running but are held anyway (empty when none). */
  leftovers: PortLeftover[];
}

const HEALTH_TIMEOUT_MS = 1500;

/** Builds the status of the named services (all when none), probing /health of those running. */
export async function collectStatus(ecosystem: Ecosystem, names: string[]): Promise<StatusReport> {
  const named = names.filter((n) => n !== 'all').length > 0;
  const services = named
    ? resolveServices(ecosystem, names, { tools: true })
    : [...ecosystem.services, ...ecosystem.tools];
  // PM2 first, then the probes, not both at once: every probe makes a service write log lines that
  // the daemon must carry, which delays its answer more than the probes take.
  const processes = await listProcesses({ namespace: ecosystem.namespace });
  const now = Date.now();
  const entries: {
    name: string;
    port: number | undefined;
    info: ProcessInfo | undefined;
    inEcosystem: boolean;
    kind: ServiceStatus['kind'];
  }[] = services.map((service) => ({
    name: service.name,
    port: service.port,
    info: processes?.find((p) => p.name === service.name),
    inEcosystem: true,
    kind: service.kind,
  }));
  if (processes && !named) {
    const declared = new Set(services.map((s) => s.name));
    for (const info of processes) {
      if (!declared.has(info.name))
        entries.push({ name: info.name, port: undefined, info, inEcosystem: false, kind: 'service' });
    }
  }
  const statuses = await Promise.all(
    entries.map(async ({ name, port, info, inEcosystem, kind }): Promise<ServiceStatus> => {
      const status = serviceState(info, now);
      const running = isRunningState(status);
      const health =
        running && port !== undefined ? await probeHealth(port, { timeoutMs: HEALTH_TIMEOUT_MS }) : null;
      return {
        name,
        kind,
        status,
        pm2Status: info?.status ?? null,
        inEcosystem,
        pmId: info ? info.pmId : null,
        pid: info && info.pid > 0 ? info.pid : null,
        port: port ?? null,
        health,
        cpu: running ? (info?.cpu ?? 0) : 0,
        memoryBytes: running ? (info?.memory ?? 0) : 0,
        uptimeMs: running && info?.startedAt !== undefined ? Math.max(0, now - info.startedAt) : null,
        restarts: info?.restarts ?? 0,
        unstableRestarts: info?.unstableRestarts ?? 0,
        exitCode: info?.exitCode ?? null,
      };
    }),
  );
  return {
    namespace: ecosystem.namespace,
    daemon: { running: processes !== null, pm2Home: pm2Home() },
    services: statuses,
    leftovers: leftovers(ecosystem, statuses),
  };
}

/** Who holds the port of each service that does not run (one /proc/net/tcp read per such port). */
function leftovers(ecosystem: Ecosystem, statuses: ServiceStatus[]): PortLeftover[] {
  const found: PortLeftover[] = [];
  for (const status of statuses) {
    if (status.port === null || (status.status !== 'not started' && status.status !== 'stopped')) continue;
    if (!isPortListening(status.port)) continue;
    const holder = portHolder(status.port, ecosystem.root);
    if (!holder) continue;
    const entry = ecosystem.services.find((service) => service.name === status.name);
    found.push({
      service: status.name,
      port: status.port,
      pid: holder.pid ?? null,
      command: holder.command ?? null,
      orphan: holder.orphan || (entry !== undefined && isOwnLeftover(holder, entry.cwd, entry.script)),
    });
  }
  return found;
}

function leftoverLines(report: StatusReport): string[] {
  return report.leftovers.map((left) => {
    const holder = describeHolder({
      port: left.port,
      pid: left.pid ?? undefined,
      command: left.command ?? undefined,
      cwd: undefined,
      orphan: left.orphan,
      underPm2: false,
    });
    const advice = left.pid ? `; stop it with: ${c.bold(`kill ${left.pid}`)}` : '';
    return `${c.yellow(`${left.service} is not running but its`)} ${holder}${advice}`;
  });
}

function paintStatus(status: ServiceState): string {
  if (status === 'online') return c.green(status);
  if (status === 'errored' || status === 'crash-loop') return c.red(status);
  if (status === 'launching' || status === 'stopping') return c.yellow(status);
  return c.gray(status);
}

function healthCell(health: HealthResult | null): string {
  if (!health) return c.gray('-');
  if (health.ok) return c.green(`ok ${health.latencyMs}ms`);
  if (health.statusCode !== null) return c.red(`fail ${health.statusCode}`);
  return c.red(health.error?.startsWith('no answer') ? 'timeout' : (health.error ?? 'fail').toLowerCase());
}

export function renderStatus(report: StatusReport): string {
  if (!report.daemon.running) {
    const head =
      report.leftovers.length === 0
        ? `${c.yellow('PM2 daemon is not running')} (PM2_HOME=${report.daemon.pm2Home}): no service of ${report.namespace} runs; start them with ${c.bold('pnpm pm2:start')}`
        : `${c.yellow('PM2 daemon is not running')} (PM2_HOME=${report.daemon.pm2Home}), but processes left from an earlier run hold ports of ${report.namespace}; stop them, then start with ${c.bold('pnpm pm2:start')}`;
    return [head, ...leftoverLines(report)].map((line) => `${line}\n`).join('');
  }
  const table = renderTable(report.services, [
    {
      header: 'name',
      cell: (s) =>
        !s.inEcosystem
          ? `${s.name} ${c.gray('(not in ecosystem)')}`
          : s.kind === 'tool'
            ? `${s.name} ${c.gray('(tool)')}`
            : s.name,
    },
    { header: 'status', cell: (s) => paintStatus(s.status) },
    { header: 'pid', cell: (s) => (s.pid ? String(s.pid) : '-'), right: true },
    { header: 'port', cell: (s) => (s.port ? String(s.port) : '-'), right: true },
    { header: 'health', cell: (s) => healthCell(s.health) },
    { header: 'cpu', cell: (s) => (s.pid ? `${s.cpu}%` : '-'), right: true },
    { header: 'memory', cell: (s) => (s.pid ? formatBytes(s.memoryBytes) : '-'), right: true },
    { header: 'uptime', cell: (s) => (s.uptimeMs === null ? '-' : formatDuration(s.uptimeMs)), right: true },
    { header: 'restarts', cell: (s) => String(s.restarts), right: true },
    { header: 'exit', cell: (s) => (s.exitCode === null ? '-' : String(s.exitCode)), right: true },
  ]);
  const troubled = report.services.filter(
    (s) => s.status === 'errored' || s.status === 'crash-loop' || (s.health !== null && !s.health.ok),
  );
  const notStarted = report.services.filter((s) => s.status === 'not started' || s.status === 'stopped');
  const hints: string[] = [];
  const troubledServices = troubled.filter((s) => s.kind === 'service');
  if (troubledServices.length > 0) {
    const names = troubledServices.map((s) => s.name).join(' ');
    hints.push(`${c.red('unhealthy:')} ${names}; find out why with ${c.bold(`devctl diagnose ${names}`)}`);
  }
  for (const tool of troubled.filter((s) => s.kind === 'tool')) {
    hints.push(
      `${c.red(`${tool.name} is ${tool.status}:`)} see why with ${c.bold(`devctl logs ${tool.name}`)}, then ${c.bold('devctl start')}`,
    );
  }
  if (notStarted.length > 0 && notStarted.length < report.services.length) {
    hints.push(
      `not running: ${notStarted.map((s) => s.name).join(' ')}; start with ${c.bold('devctl start')}`,
    );
  } else if (notStarted.length === report.services.length && report.services.length > 0) {
    hints.push(
      `nothing of ${report.namespace} runs under PM2; start the stack with ${c.bold('pnpm pm2:start')}`,
    );
  }
  hints.push(...leftoverLines(report));
  return table + hints.map((h) => `${h}\n`).join('');
}

export async function runStatus(options: StatusOptions): Promise<void> {
  const ecosystem = loadEcosystem();
  const report = await collectStatus(ecosystem, options.names);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : renderStatus(report));
}
