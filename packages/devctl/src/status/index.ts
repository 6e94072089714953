// The status model of the stack, one function for every face: `devctl status` renders it, the MCP
// `status` tool returns it, `devctl graph` and `monit` read it, and the dashboard serves it. A live
// /health probe of each running service; never an environment value (so nothing to mask here).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Ecosystem, resolveServices, WEB_FOLDER, webPortOf } from '../ecosystem/index';
import { listProcesses, pm2Home } from '../pm2/index';
import { isRunningState, type ServiceState, serviceState } from '../pm2/state';
import type { ProcessInfo } from '../pm2/types';
import { isOwnLeftover, isPortListening, isUnder, portHolder } from '../ports/holders';
import { type HealthResult, probeHealth } from '../probe';

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
  /**
   * The live /ready answer (its own dependencies reachable), only when asked for (`readiness`: the
   * dashboard): a /ready probe makes the service probe its dependencies in turn, more than a
   * `devctl status` should cost. Absent otherwise.
   */
  ready?: HealthResult | null;
  cpu: number;
  memoryBytes: number;
  uptimeMs: number | null;
  restarts: number;
  unstableRestarts: number;
  exitCode: number | null;
  /** PM2 instances of the service (`instances` in the ecosystem): how many run, of how many. */
  instances: { online: number; total: number };
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

/**
 * The frontend (`pnpm dev`: Vite with hot reload, not under PM2) on its port, in the status of the
 * whole stack. Whether its page can be opened is part of "is my dev environment up": an agent told to
 * check a fix in the browser found the port listed by `devctl stacks` and nothing serving it (trial 16).
 */
export interface WebStatus {
  /** Repository-relative: apps/web. */
  folder: string;
  port: number;
  url: string;
  /** Something listens on the port. */
  listening: boolean;
  pid: number | null;
  command: string | null;
  /** The listener runs from this checkout (its working folder or its command line is under it). */
  ofCheckout: boolean;
}

export interface StatusReport {
  namespace: string;
  daemon: { running: boolean; pm2Home: string };
  services: ServiceStatus[];
  /** Ports of services that are not running but are held anyway (empty when none). */
  leftovers: PortLeftover[];
  /** The frontend, when the whole stack is asked for and the checkout has one (absent otherwise). */
  web?: WebStatus;
}

/** Who serves the frontend's port, if anyone (portHolder: its sockets, and the holder only when listening). */
export function webStatus(root: string, port: number): WebStatus {
  const url = `http://127.0.0.1:${port}`;
  const holder = portHolder(port, root);
  return {
    folder: WEB_FOLDER,
    port,
    url,
    listening: holder !== undefined,
    pid: holder?.pid ?? null,
    command: holder?.command ?? null,
    ofCheckout: holder !== undefined && (isUnder(holder.cwd, root) || isUnder(holder.command, root)),
  };
}

const HEALTH_TIMEOUT_MS = 1500;

/** Builds the status of the named services (all when none), probing /health of those running. */
export async function collectStatus(
  ecosystem: Ecosystem,
  names: string[],
  options: { readiness?: boolean } = {},
): Promise<StatusReport> {
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
  // A service run as several PM2 instances is one line: the state of an instance that is not
  // online if any (the one to look at), cpu, memory and restarts added up, and N/N online.
  const instancesOf = (name: string) => processes?.filter((p) => p.name === name) ?? [];
  for (const entry of entries) {
    const all = instancesOf(entry.name);
    if (all.length > 1) entry.info = all.find((p) => serviceState(p, now) !== 'online') ?? all[0];
  }
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
      const probed = running && port !== undefined;
      const [health, ready] = await Promise.all([
        probed ? probeHealth(port, { timeoutMs: HEALTH_TIMEOUT_MS }) : null,
        probed && options.readiness
          ? probeHealth(port, { path: '/ready', timeoutMs: HEALTH_TIMEOUT_MS })
          : null,
      ]);
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
        ...(options.readiness ? { ready } : {}),
        cpu: running ? (info?.cpu ?? 0) : 0,
        memoryBytes: running ? (info?.memory ?? 0) : 0,
        uptimeMs: running && info?.startedAt !== undefined ? Math.max(0, now - info.startedAt) : null,
        restarts: info?.restarts ?? 0,
        unstableRestarts: info?.unstableRestarts ?? 0,
        exitCode: info?.exitCode ?? null,
        instances: { online: 0, total: 0 },
      };
    }),
  );
  for (const status of statuses) {
    const all = instancesOf(status.name);
    status.instances = {
      online: all.filter((p) => serviceState(p, now) === 'online').length,
      total: all.length,
    };
    if (all.length > 1 && isRunningState(status.status)) {
      status.cpu = all.reduce((sum, p) => sum + p.cpu, 0);
      status.memoryBytes = all.reduce((sum, p) => sum + p.memory, 0);
      status.restarts = all.reduce((sum, p) => sum + p.restarts, 0);
    }
  }
  return {
    namespace: ecosystem.namespace,
    daemon: { running: processes !== null, pm2Home: pm2Home() },
    services: statuses,
    leftovers: leftovers(ecosystem, statuses),
    ...(!named && existsSync(join(ecosystem.root, WEB_FOLDER))
      ? { web: webStatus(ecosystem.root, webPortOf(ecosystem)) }
      : {}),
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

export { renderStatus } from './render';
