// Stopping and deleting services of this project's PM2 namespace only (`all` means every process
// of the namespace, never another project's app in the same daemon), dependants first, each from
// whatever state PM2 is in (takeDown).
import { closest } from 'fastest-levenshtein';
import { dependencyWaves, type Ecosystem, loadEcosystem, resolveServices } from '../ecosystem/index';
import { usageError } from '../errors';
import { isDaemonRunning, processList, withDaemon } from '../pm2/index';
import { serviceState } from '../pm2/state';
import { ProcessWatcher } from '../pm2/supervise';
import type { ProcessInfo } from '../pm2/types';
import type { LifecycleSink, ServiceResult } from './outcome';
import { takeDown } from './pm2-cycle';
import { withStackLock } from './stack-lock';

export type TakeDownVerb = 'stop' | 'delete';

export interface StopOutcome {
  namespace: string;
  /** False when no daemon runs (nothing was done). */
  daemonRunning: boolean;
  results: ServiceResult[];
}

/** The processes of this namespace that `names` designate (all for none or `all`); unknown: exit 2. */
export function selectProcesses(
  ecosystem: Ecosystem,
  processes: ProcessInfo[],
  names: string[],
): { selected: ProcessInfo[]; notInPm2: string[] } {
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

export async function takeDownServices(
  names: string[],
  verb: TakeDownVerb,
  sink: LifecycleSink,
): Promise<StopOutcome> {
  const ecosystem = loadEcosystem();
  // With no daemon there is nothing to take down: no lock to wait for, no PM2 home to create.
  if (!(await isDaemonRunning())) return noDaemon(ecosystem, names);
  return withStackLock(ecosystem.namespace, verb, sink, () => takeDownLocked(ecosystem, names, verb, sink));
}

function noDaemon(ecosystem: Ecosystem, names: string[]): StopOutcome {
  // Nothing runs, so nothing to stop; still reject unknown names.
  resolveServices(ecosystem, names);
  return { namespace: ecosystem.namespace, daemonRunning: false, results: [] };
}

async function takeDownLocked(
  ecosystem: Ecosystem,
  names: string[],
  verb: TakeDownVerb,
  sink: LifecycleSink,
): Promise<StopOutcome> {
  const results = await withDaemon(async (connection) => {
    const processes = await processList(connection, { namespace: ecosystem.namespace });
    const { selected, notInPm2 } = selectProcesses(ecosystem, processes, names);
    const results: ServiceResult[] = [];
    const report = (result: ServiceResult) => {
      results.push(result);
      sink.service(result);
    };
    for (const name of notInPm2) {
      report({
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
      sink.line(`no process of namespace ${ecosystem.namespace} in PM2; nothing to ${verb}`);
    }
    const watcher = new ProcessWatcher(connection, ecosystem.namespace);
    const context = { connection, watcher, root: ecosystem.root };
    for (const wave of stopOrder(ecosystem, selected)) {
      await Promise.all(
        wave.map(async (info) => {
          const started = performance.now();
          const service = ecosystem.services.find((s) => s.name === info.name);
          const port = service?.port ?? null;
          const alreadyStopped = info.status === 'stopped';
          const outcome = await takeDown(context, service, info, verb);
          if (outcome.ok) {
            report({
              name: info.name,
              action: verb === 'delete' ? 'deleted' : alreadyStopped ? 'already stopped' : 'stopped',
              ok: true,
              healthy: null,
              state: verb === 'delete' ? 'not started' : 'stopped',
              pid: null,
              port,
              elapsedMs: Math.round(performance.now() - started),
              failure: null,
              note: outcome.replaced
                ? `also stopped pid ${outcome.replaced}, a process of ${info.name} PM2 had lost, which held its port`
                : null,
            });
            return;
          }
          report({
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
              reason: outcome.reason,
              state: serviceState(info),
              pm2Status: info.status,
              restarts: info.restarts,
              exitCode: info.exitCode ?? null,
              errorLines: [],
              errorLinesAreOlder: false,
              errorLinesFromBus: false,
              health: null,
              next: `devctl status ${info.name}`,
            },
            note: null,
          });
        }),
      );
    }
    return results;
  });
  if (results === null) return noDaemon(ecosystem, names);
  return { namespace: ecosystem.namespace, daemonRunning: true, results };
}
