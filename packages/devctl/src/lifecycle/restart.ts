// Restarting services on the code and configuration on disk, from any PM2 state, and the verdict:
// healthy only when every restart took AND diagnose finds nothing new since the new runs began.

import { recordHealthy } from '../diagnose/last-healthy';
import type { DiagnoseReport } from '../diagnose/types';
import {
  assertValidEcosystem,
  dependencyWaves,
  type Ecosystem,
  loadEcosystem,
  resolveServices,
  type ServiceEntry,
} from '../ecosystem/index';
import { TimingRecorder } from '../graph/timings';
import { ErrorOutput } from '../pm2/error-output';
import { connectOrLaunchDaemon, pm2Home } from '../pm2/index';
import { linesSince } from '../pm2/log-tail';
import { serviceState } from '../pm2/state';
import { ProcessWatcher } from '../pm2/supervise';
import { waitUntilHealthy } from './health';
import { instancesOf, rollingRestart } from './instances';
import {
  blockedByDependency,
  describeFailure,
  type LifecycleSink,
  type LogMarks,
  type ServiceResult,
} from './outcome';
import { bringUp, type CycleContext } from './pm2-cycle';
import { sleep } from './port';
import { assertValidConfig, buildStep, timeoutMs } from './prepare';
import { daemonNotices, withStackLock } from './stack-lock';

export interface RestartRequest {
  names: string[];
  wait: boolean;
  build: boolean;
  timeoutSeconds?: number;
}

/** A log line written since the restart (`restart --wait` prints them). */
export interface RestartLogLine {
  service: string;
  stream: 'out' | 'err';
  text: string;
}

/** diagnose's report since the restart, judged together with the restart itself. */
export interface RestartVerdict extends DiagnoseReport {
  /** The services whose restart did not take, with why; the verdict is then never healthy. */
  restartFailed: { service: string; reason: string }[];
}

export interface RestartOutcome {
  namespace: string;
  /** Every restart took, and (with wait) the verdict is healthy: the exit code is 0. */
  ok: boolean;
  results: ServiceResult[];
  /** With wait only. */
  logLines?: RestartLogLine[];
  verdict?: RestartVerdict;
}

const RESTART_LOG_LINES = 60;

/** The lines a service wrote to out.log and error.log since `marks`, in time order. */
function logLinesSince(service: ServiceEntry, marks: LogMarks, maxLines: number): RestartLogLine[] {
  const read = (file: string | undefined, offset: number, stream: 'out' | 'err') =>
    linesSince(file, offset, maxLines).lines.map((text) => ({ service: service.name, stream, text }));
  // PM2's `time: true` prefix (YYYY-MM-DDTHH:mm:ss) sorts as text; a stable sort keeps each file's order.
  const stamp = (line: RestartLogLine) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(line.text)?.[0] ?? '';
  return [...read(marks.out, marks.outOffset, 'out'), ...read(marks.err, marks.errOffset, 'err')]
    .sort((a, b) => (stamp(a) < stamp(b) ? -1 : stamp(a) > stamp(b) ? 1 : 0))
    .slice(-maxLines);
}

/**
 * Diagnose counts PM2's events and prefixed log lines by the second. When a service was crashing
 * until just now, its last crash may share the second of the new start and would count as "since
 * the restart": the new run then starts in the next second (at most 1 s, and only then).
 */
async function startInANewSecond(settledAt: number): Promise<void> {
  const next = Math.floor(settledAt / 1000) * 1000 + 1000;
  const wait = next - Date.now();
  if (wait > 0) await sleep(wait + 5);
}

export async function restartServices(request: RestartRequest, sink: LifecycleSink): Promise<RestartOutcome> {
  const limitMs = timeoutMs(request.timeoutSeconds);
  const ecosystem = loadEcosystem();
  assertValidEcosystem(ecosystem);
  const targets = resolveServices(ecosystem, request.names);
  // One caller at a time per stack, from the build to the verdict: a second restart restarts again
  // on what the first left (the code on disk then), and a stop cannot cut into a restart.
  return withStackLock(ecosystem.namespace, 'restart', sink, () =>
    restartLocked(ecosystem, targets, request, limitMs, sink),
  );
}

async function restartLocked(
  ecosystem: Ecosystem,
  targets: ServiceEntry[],
  request: RestartRequest,
  limitMs: number,
  sink: LifecycleSink,
): Promise<RestartOutcome> {
  if (request.build) await buildStep(ecosystem, targets, sink, 'restart');
  assertValidEcosystem(ecosystem, { checkScriptsOf: targets });
  // A service that would refuse its configuration is not taken down: the running process stays.
  await assertValidConfig(ecosystem, targets, 'restart');

  const { connection, launched } = await connectOrLaunchDaemon(daemonNotices(sink));
  if (launched) sink.line(`started the PM2 daemon (PM2_HOME=${pm2Home()})`);
  const marksByName = new Map<string, LogMarks>();
  const startedAt: Date[] = [];
  const startedByName = new Map<string, number>();
  const results: ServiceResult[] = [];
  // What `devctl graph` shows later: each launch that was waited for, as measured here.
  const timings = new TimingRecorder(ecosystem.root);
  const report = (result: ServiceResult) => {
    results.push(result);
    sink.service(result);
  };
  const watcher = new ProcessWatcher(connection, ecosystem.namespace);
  try {
    watcher.errorOutput = await ErrorOutput.open(ecosystem.namespace);
    const context: CycleContext = { connection, watcher, root: ecosystem.root };
    const failedNames = new Set<string>();
    const laterWavesDepend = (name: string) => targets.some((t) => t.dependsOn.includes(name));
    for (const wave of dependencyWaves(targets)) {
      await Promise.all(
        wave.map(async (service) => {
          const base = { name: service.name, port: service.port ?? null, elapsedMs: null, note: null };
          const blockedBy = service.dependsOn.find((dep) => failedNames.has(dep));
          if (blockedBy) {
            failedNames.add(service.name);
            report(
              blockedByDependency(
                service,
                serviceState(await watcher.find(service.name)),
                blockedBy,
                'not restarted',
                `devctl restart ${service.name} --wait`,
              ),
            );
            return;
          }
          const before = await watcher.find(service.name, 0);
          const stateBefore = serviceState(before);
          const instances = instancesOf(await watcher.list(0), service.name);
          const up =
            instances.length > 1 && instances.every((i) => i.clustered)
              ? await rollingRestart(context, service, instances)
              : await bringUp(context, service, before, async (wasCrashing) => {
                  if (wasCrashing && request.wait) await startInANewSecond(Date.now());
                });
          if (!up.ok) {
            failedNames.add(service.name);
            report({
              ...base,
              action: 'not restarted',
              ok: false,
              healthy: null,
              state: serviceState(up.info),
              pid: up.info?.pid || null,
              failure: describeFailure(service, up.info, undefined, up.kind, up.reason),
            });
            return;
          }
          marksByName.set(service.name, up.marks);
          startedAt.push(up.startedAtDate);
          startedByName.set(service.name, up.startedAtDate.getTime());
          const note =
            up.replaced ??
            up.fresh ??
            (!before ? 'was not in PM2: started' : stateBefore !== 'online' ? `was ${stateBefore}` : null);
          if (!request.wait && !laterWavesDepend(service.name)) {
            const info = up.launched ?? (await watcher.find(service.name, 0));
            report({
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
          const outcome = await waitUntilHealthy(service, watcher, {
            timeoutMs: limitMs,
            restartsBefore: up.restartsBefore,
            marks: up.marks,
            since: up.startedAt,
          });
          if (!outcome.healthy) failedNames.add(service.name);
          timings.note(service.name, up.startedAtDate, {
            healthy: outcome.healthy,
            elapsedMs: outcome.elapsedMs,
            pid: outcome.info?.pid || null,
          });
          report({
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
    watcher.errorOutput?.close();
    connection.close();
    timings.save();
  }

  const restartOk = results.every((r) => r.ok);
  if (!request.wait) return { namespace: ecosystem.namespace, ok: restartOk, results };
  const logLines = targets.flatMap((service) => {
    const marks = marksByName.get(service.name);
    return marks ? logLinesSince(service, marks, RESTART_LOG_LINES) : [];
  });
  // The verdict: diagnose over the restarted services, counting only what happened since the
  // first new run began (or since now, when none began). Memory growth needs a sampling window
  // (diagnose watches 1.5 s when a process looks like it grows); it is not a problem the restart
  // caused, so the verdict does not wait for it.
  const since = startedAt.length > 0 ? new Date(Math.min(...startedAt.map((d) => d.getTime()))) : new Date();
  const { diagnose } = await import('../diagnose/index');
  const diagnosis = await diagnose({
    names: targets.map((t) => t.name),
    since,
    memoryWindowMs: 0,
    verifying: true,
  });
  const restartFailed = results
    .filter((r) => !r.ok)
    .map((r) => ({ service: r.name, reason: r.failure?.reason ?? r.action }));
  const verdict: RestartVerdict = { ...diagnosis, healthy: diagnosis.healthy && restartOk, restartFailed };
  // A verified point: what diagnose compares with to name what changed since a service last worked.
  if (verdict.healthy) {
    recordHealthy(
      ecosystem.root,
      targets.map((service) => ({ service, startedAt: startedByName.get(service.name) })),
    );
  }
  return { namespace: ecosystem.namespace, ok: verdict.healthy, results, logLines, verdict };
}
