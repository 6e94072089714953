// `devctl stop|restart|delete [names...|all]`, on this project's PM2 namespace only: `all` means
// every process of the namespace, never another project's app in the same daemon.
//
// restart re-reads ecosystem.config.js and rebuilds first, so edited code, edited .env files (the
// services read them at start) and edited ecosystem env all apply: PM2 gets the ecosystem's env
// with updateEnv, the way `pm2 restart ecosystem.config.js` does, not the stale one of `pm2
// restart <name>` without --update-env.
import { closest } from 'fastest-levenshtein';
import {
  assertValidEcosystem,
  dependencyWaves,
  type Ecosystem,
  loadEcosystem,
  resolveServices,
  type ServiceEntry,
} from '../ecosystem/index';
import { usageError } from '../errors';
import { parseLine, renderEntry } from '../logs/index';
import { c } from '../output/colors';
import { nameWidth } from '../output/report';
import {
  connectOrLaunchDaemon,
  deleteProcess,
  launchApp,
  pm2Home,
  processList,
  restartEnv,
  restartProcess,
  stopProcess,
  withDaemon,
} from '../pm2/index';
import { linesSince } from '../pm2/log-tail';
import { isRunningState, serviceState } from '../pm2/state';
import {
  clearPort,
  describeFailure,
  type LogMarks,
  markLogs,
  ProcessWatcher,
  waitUntilHealthy,
} from '../pm2/supervise';
import type { ProcessInfo } from '../pm2/types';
import { assertValidConfig, buildStep, finishReport, Reporter, timeoutMs } from './start';

export interface StopOptions {
  names: string[];
  json: boolean;
}

export interface RestartOptions {
  names: string[];
  wait: boolean;
  build: boolean;
  timeoutSeconds?: number;
  json: boolean;
}

/** A log line written since the restart (`restart --wait` prints them). */
export interface RestartLogLine {
  service: string;
  stream: 'out' | 'err';
  text: string;
}

/** The processes of this namespace that `names` designate (all for none or `all`); unknown: exit 2. */
function selectProcesses(
  ecosystem: Ecosystem,
  processes: ProcessInfo[],
  names: string[],
): {
  selected: ProcessInfo[];
  notInPm2: string[];
} {
  const wanted = [...new Set(names.filter((n) => n !== 'all'))];
  if (wanted.length === 0) return { selected: processes, notInPm2: [] };
  const known = [...new Set([...ecosystem.services.map((s) => s.name), ...processes.map((p) => p.name)])];
  const unknown = wanted.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    const suggestion = known.length > 0 ? closest(unknown[0] as string, known) : null;
    throw usageError(
      `unknown service "${unknown.join('", "')}" in ${ecosystem.file} and namespace ${ecosystem.namespace};${suggestion ? ` did you mean ${suggestion}?` : ''} (services: ${known.join(', ') || 'none'})`,
      { unknown, known, suggestion },
    );
  }
  return {
    selected: processes.filter((p) => wanted.includes(p.name)),
    notInPm2: wanted.filter((n) => !processes.some((p) => p.name === n)),
  };
}

/** Dependants before their dependencies, so nothing loses a dependency while it still runs. */
function stopOrder(ecosystem: Ecosystem, processes: ProcessInfo[]): ProcessInfo[][] {
  const declared = ecosystem.services.filter((s) => processes.some((p) => p.name === s.name));
  const waves = dependencyWaves(declared).reverse();
  const undeclared = processes.filter((p) => !declared.some((s) => s.name === p.name));
  const ordered = waves.map((wave) => processes.filter((p) => wave.some((s) => s.name === p.name)));
  if (undeclared.length > 0) ordered.unshift(undeclared);
  return ordered.filter((wave) => wave.length > 0);
}

async function stopOrDelete(options: StopOptions, verb: 'stop' | 'delete'): Promise<void> {
  const ecosystem = loadEcosystem();
  const outcome = await withDaemon(async (connection) => {
    const processes = await processList(connection, { namespace: ecosystem.namespace });
    const { selected, notInPm2 } = selectProcesses(ecosystem, processes, options.names);
    const reporter = new Reporter(options.json, nameWidth([...selected.map((p) => p.name), ...notInPm2]));
    for (const name of notInPm2) {
      reporter.service({
        name,
        action: 'not in PM2',
        ok: true,
        healthy: null,
        state: 'not started',
        pid: null,
        port: null,
        elapsedMs: null,
        failure: null,
        note: verb === 'stop' ? 'nothing to stop' : 'nothing to delete',
      });
    }
    if (selected.length === 0 && notInPm2.length === 0) {
      reporter.line(`no process of namespace ${ecosystem.namespace} in PM2; nothing to ${verb}`);
    }
    for (const wave of stopOrder(ecosystem, selected)) {
      await Promise.all(
        wave.map(async (info) => {
          const started = performance.now();
          const port = ecosystem.services.find((s) => s.name === info.name)?.port ?? null;
          const alreadyStopped = serviceState(info) === 'stopped';
          try {
            if (verb === 'delete') await deleteProcess(connection, info.pmId);
            else if (!alreadyStopped) await stopProcess(connection, info.pmId);
            reporter.service({
              name: info.name,
              action: verb === 'delete' ? 'deleted' : alreadyStopped ? 'already stopped' : 'stopped',
              ok: true,
              healthy: null,
              state: verb === 'delete' ? 'not started' : 'stopped',
              pid: null,
              port,
              elapsedMs: Math.round(performance.now() - started),
              failure: null,
              note: null,
            });
          } catch (error) {
            reporter.service({
              name: info.name,
              action: `not ${verb === 'stop' ? 'stopped' : 'deleted'}`,
              ok: false,
              healthy: null,
              state: serviceState(info),
              pid: info.pid || null,
              port,
              elapsedMs: null,
              failure: {
                kind: 'pm2-error',
                reason: (error as Error).message,
                state: serviceState(info),
                pm2Status: info.status,
                restarts: info.restarts,
                exitCode: info.exitCode ?? null,
                errorLines: [],
                errorLinesAreOlder: false,
                health: null,
                next: `devctl status ${info.name}`,
              },
              note: null,
            });
          }
        }),
      );
    }
    return reporter.results;
  });
  if (outcome === null) {
    // Nothing runs, so nothing to stop; still reject unknown names.
    resolveServices(ecosystem, options.names);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, daemon: { running: false }, services: [] })}\n`);
    } else {
      process.stdout.write(`PM2 daemon is not running (PM2_HOME=${pm2Home()}); nothing to ${verb}\n`);
    }
    return;
  }
  finishReport(verb, outcome, options.json, { namespace: ecosystem.namespace });
}

export function runStop(options: StopOptions): Promise<void> {
  return stopOrDelete(options, 'stop');
}

export function runDelete(options: StopOptions): Promise<void> {
  return stopOrDelete(options, 'delete');
}

/** The lines each service wrote to out.log and error.log since `marks`, in time order. */
function logLinesSince(service: ServiceEntry, marks: LogMarks, maxLines: number): RestartLogLine[] {
  const out = linesSince(marks.out, marks.outOffset, maxLines).lines.map((text) => ({
    service: service.name,
    stream: 'out' as const,
    text,
  }));
  const err = linesSince(marks.err, marks.errOffset, maxLines).lines.map((text) => ({
    service: service.name,
    stream: 'err' as const,
    text,
  }));
  // PM2's `time: true` prefix (YYYY-MM-DDTHH:mm:ss) sorts as text; a stable sort keeps each file's order.
  const stamp = (line: RestartLogLine) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(line.text)?.[0] ?? '';
  return [...out, ...err]
    .sort((a, b) => (stamp(a) < stamp(b) ? -1 : stamp(a) > stamp(b) ? 1 : 0))
    .slice(-maxLines);
}

const RESTART_LOG_LINES = 60;

/** The lines of one service, rendered like `devctl logs` renders them. */
function renderLogLines(name: string, lines: RestartLogLine[]): string {
  if (lines.length === 0) return c.gray(`${name} wrote no log line since the restart\n`);
  let previous = new Date();
  const rendered = lines.map((line) => {
    const parsed = parseLine(line.text, line.service, line.stream);
    const time = parsed.time ?? previous;
    previous = time;
    return `  ${renderEntry({ ...parsed, time }, { mode: 'text', showService: false })}`;
  });
  return `${c.bold(name)} ${c.gray(`log since the restart (${lines.length} lines; more: devctl logs ${name})`)}\n${rendered.join('\n')}\n`;
}

export async function runRestart(options: RestartOptions): Promise<void> {
  const limitMs = timeoutMs(options.timeoutSeconds);
  const ecosystem = loadEcosystem();
  assertValidEcosystem(ecosystem);
  const targets = resolveServices(ecosystem, options.names);
  const reporter = new Reporter(options.json, nameWidth(targets.map((t) => t.name)));
  if (options.build) await buildStep(ecosystem, targets, reporter);
  assertValidEcosystem(ecosystem, { checkScriptsOf: targets });
  // A service that would refuse its configuration is not taken down: the running process stays.
  await assertValidConfig(ecosystem, targets, 'restart');

  const { connection, launched } = await connectOrLaunchDaemon();
  if (launched) reporter.line(c.gray(`started the PM2 daemon (PM2_HOME=${pm2Home()})`));
  const marksByName = new Map<string, LogMarks>();
  const restartedAt = new Date();
  try {
    const watcher = new ProcessWatcher(connection, ecosystem.namespace);
    const failedNames = new Set<string>();
    for (const wave of dependencyWaves(targets)) {
      const laterWavesDepend = (name: string) => targets.some((t) => t.dependsOn.includes(name));
      await Promise.all(
        wave.map(async (service) => {
          const base = { name: service.name, port: service.port ?? null, elapsedMs: null, note: null };
          const blockedBy = service.dependsOn.find((dep) => failedNames.has(dep));
          if (blockedBy) {
            failedNames.add(service.name);
            reporter.service({
              ...base,
              action: 'not restarted',
              ok: false,
              healthy: null,
              state: serviceState(await watcher.find(service.name)),
              pid: null,
              failure: {
                ...describeFailure(
                  service,
                  undefined,
                  undefined,
                  'dependency',
                  `depends on ${blockedBy}, which is not healthy`,
                ),
                next: `fix ${blockedBy} first (see above), then: devctl restart ${service.name} --wait`,
              },
            });
            return;
          }
          const before = await watcher.find(service.name);
          const { blocker, replaced } = await clearPort(service, ecosystem.root, before);
          if (blocker) {
            failedNames.add(service.name);
            reporter.service({
              ...base,
              action: 'not restarted',
              ok: false,
              healthy: null,
              state: serviceState(before),
              pid: before?.pid || null,
              failure: describeFailure(service, before, undefined, 'port-in-use', blocker),
            });
            return;
          }
          const marks = markLogs(service, before);
          marksByName.set(service.name, marks);
          const actionStarted = performance.now();
          const wasRunning = before !== undefined && isRunningState(serviceState(before));
          let note: string | null = replaced
            ? `replaced a leftover ${service.name} run without PM2 (pid ${replaced})`
            : null;
          let launched: ProcessInfo | undefined;
          try {
            if (before) launched = await restartProcess(connection, before.pmId, restartEnv(service.app));
            else {
              [launched] = await launchApp(connection, service.app, ecosystem.root);
              note = note ?? 'was not in PM2: started';
            }
          } catch (error) {
            failedNames.add(service.name);
            reporter.service({
              ...base,
              action: 'not restarted',
              ok: false,
              healthy: null,
              state: serviceState(before),
              pid: null,
              failure: describeFailure(
                service,
                before,
                marks,
                'launch-failed',
                `PM2 could not restart it: ${(error as Error).message}`,
              ),
            });
            return;
          }
          watcher.invalidate();
          if (!options.wait && !laterWavesDepend(service.name)) {
            const info = launched ?? (await watcher.find(service.name, 0));
            reporter.service({
              ...base,
              action: 'restarted',
              note,
              ok: true,
              healthy: null,
              state: serviceState(info),
              pid: info?.pid || null,
              failure: null,
            });
            return;
          }
          const restartsBefore = (before?.restarts ?? 0) + (wasRunning ? 1 : 0);
          const outcome = await waitUntilHealthy(service, watcher, {
            timeoutMs: limitMs,
            restartsBefore,
            marks,
            since: actionStarted,
            launched,
          });
          if (!outcome.healthy) failedNames.add(service.name);
          reporter.service({
            ...base,
            action: 'restarted',
            note,
            ok: outcome.healthy,
            healthy: outcome.healthy,
            state: serviceState(outcome.info),
            pid: outcome.info?.pid || null,
            elapsedMs: outcome.elapsedMs,
            failure: outcome.failure ?? null,
          });
        }),
      );
    }
  } finally {
    connection.close();
  }

  const results = reporter.results;
  if (!options.wait) {
    finishReport('restart', results, options.json, { namespace: ecosystem.namespace });
    return;
  }
  const logLines = targets.flatMap((service) => {
    const marks = marksByName.get(service.name);
    return marks ? logLinesSince(service, marks, RESTART_LOG_LINES) : [];
  });
  if (!options.json) {
    for (const service of targets) {
      if (!marksByName.has(service.name)) continue;
      process.stdout.write(
        renderLogLines(
          service.name,
          logLines.filter((l) => l.service === service.name),
        ),
      );
    }
  }
  // The verdict: diagnose over the restarted services, counting only what happened since.
  // Memory growth needs a sampling window (diagnose watches 1.5 s when a process looks like it
  // grows); it is not a problem the restart caused, so the verdict does not wait for it.
  const { diagnose, renderReport } = await import('../diagnose/index');
  const verdict = await diagnose({
    names: targets.map((t) => t.name),
    since: restartedAt,
    memoryWindowMs: 0,
  });
  if (!options.json) {
    process.stdout.write(
      verdict.healthy
        ? `${c.green('✓ verdict:')} healthy, no new error since the restart\n`
        : `${renderReport(verdict)}\n`,
    );
  }
  finishReport('restart', results, options.json, { namespace: ecosystem.namespace, logLines, verdict });
  if (!verdict.healthy) process.exitCode = 1;
}
