// The text of `devctl status` (also the MCP tool's message when the daemon is down, and monit's table).
import { c } from '../output/colors';
import { formatBytes, formatDuration } from '../output/format';
import { renderTable } from '../output/table';
import type { ServiceState } from '../pm2/state';
import { describeHolder } from '../ports/holders';
import type { HealthResult } from '../probe';
import type { StatusReport, WebStatus } from './index';

/** describeHolder's line for a holder the report keeps as port, pid and command (JSON has no more). */
const heldBy = (port: number, pid: number | null, command: string | null, orphan = false) =>
  describeHolder({
    port,
    pid: pid ?? undefined,
    command: command ?? undefined,
    cwd: undefined,
    orphan,
    underPm2: false,
  });

function leftoverLines(report: StatusReport): string[] {
  return report.leftovers.map((left) => {
    const holder = heldBy(left.port, left.pid, left.command, left.orphan);
    const advice = left.pid ? `; stop it with: ${c.bold(`kill ${left.pid}`)}` : '';
    return `${c.yellow(`${left.service} is not running but its`)} ${holder}${advice}`;
  });
}

/** The frontend's line: served, by whom, or how to serve it. */
export function webLine(web: WebStatus): string {
  const head = `web (frontend, ${web.folder}, not under PM2):`;
  if (!web.listening)
    return `${head} ${c.gray('not running')}; serve it on ${web.url} with ${c.bold('pnpm dev')}`;
  if (web.ofCheckout) return `${head} ${c.green(web.url)} served by pid ${web.pid ?? '?'}`;
  const holder = heldBy(web.port, web.pid, web.command);
  return `${head} ${c.yellow(`not this checkout's: ${holder}`)}; ${c.bold('pnpm dev')} says what to do`;
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
    return [head, ...leftoverLines(report), ...(report.web ? [webLine(report.web)] : [])]
      .map((line) => `${line}\n`)
      .join('');
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
    {
      header: 'status',
      cell: (s) =>
        s.instances.total > 1
          ? `${paintStatus(s.status)} ${s.instances.online}/${s.instances.total}`
          : paintStatus(s.status),
    },
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
  // After the table and before the hints: the frontend is part of the stack a person opens.
  const web = report.web ? `${webLine(report.web)}\n` : '';
  return table + web + hints.map((h) => `${h}\n`).join('');
}
