// Bringing services up in dependency order: a service starts once every service it depends on
// answers /health; independent services start in parallel. A service that runs is left alone; one
// that PM2 has stopped, errored, is stopping or keeps relaunching (a crash loop) is brought up
// fresh on the code and configuration on disk (bringUp).

import { recordHealthy } from '../diagnose/last-healthy';
import {
  assertValidEcosystem,
  type Ecosystem,
  loadEcosystem,
  resolveServices,
  type ServiceEntry,
  withDependencies,
} from '../ecosystem/index';
import { CLIError } from '../errors';
import { TimingRecorder } from '../graph/timings';
import { ErrorOutput } from '../pm2/error-output';
import { connectOrLaunchDaemon, listProcesses, pm2Home } from '../pm2/index';
import { type ServiceState, serviceState } from '../pm2/state';
import { ProcessWatcher } from '../pm2/supervise';
import type { ProcessInfo } from '../pm2/types';
import { stackClashes, stackLine } from '../stacks/index';
import { waitUntilHealthy } from './health';
import { instancesOf, rollingRestart } from './instances';
import { blockedByDependency, describeFailure, type LifecycleSink, type ServiceResult } from './outcome';
import { bringUp, type CycleContext } from './pm2-cycle';
import { assertValidConfig, buildStep, timeoutMs } from './prepare';
import { daemonNotices, withStackLock } from './stack-lock';

export interface StartRequest {
  names: string[];
  /** Wait until every started service answers /health. */
  wait: boolean;
  /** Build the services first (turbo), so PM2 runs the code on disk. */
  build: boolean;
  timeoutSeconds?: number;
}

export interface StartOutcome {
  namespace: string;
  /** This checkout's stack: its block of ports and why (undefined for an ecosystem without one). */
  stack?: { block: number; web: number; reason: string };
  results: ServiceResult[];
}

/**
 * Left alone by start: it runs, or is about to, on its own. Not a crash loop, nor a relaunch after
 * a crash at start (PM2 counts an exit before min_uptime as unstable): that one would run the code
 * and configuration PM2 had, not those on disk.
 */
export function isUp(info: ProcessInfo | undefined): boolean {
  const state: ServiceState = serviceState(info);
  if (state === 'online') return true;
  return state === 'launching' && (info?.unstableRestarts ?? 0) === 0;
}

interface Plan {
  ecosystem: Ecosystem;
  /** PM2's processes of the namespace when the command began. */
  initial: ProcessInfo[];
  context: CycleContext;
  targets: ServiceEntry[];
  wait: boolean;
  timeoutMs: number;
  sink: LifecycleSink;
  /** What `devctl graph` shows later: each launch that was waited for, as measured here. */
  timings: TimingRecorder;
}

/** Starts one service once its dependencies are healthy; resolves with what happened. */
async function startOne(
  service: ServiceEntry,
  plan: Plan,
  outcomeOf: (name: string) => Promise<ServiceResult>,
): Promise<ServiceResult> {
  const { context, targets } = plan;
  const watcher = context.watcher;
  const inTargets = new Set(targets.map((t) => t.name));
  const dependencies = service.dependsOn.filter((dep) => inTargets.has(dep));
  const dependencyResults = await Promise.all(dependencies.map(outcomeOf));
  const base = { name: service.name, port: service.port ?? null, elapsedMs: null, note: null };
  const failedDependency = dependencyResults.find((r) => !r.ok);
  if (failedDependency) {
    return blockedByDependency(
      service,
      serviceState(await watcher.find(service.name)),
      failedDependency.name,
      'not started',
      `devctl start ${service.name}`,
    );
  }
  // Dependants wait for this service's health even without --wait.
  const mustBeHealthy = plan.wait || targets.some((t) => t.dependsOn.includes(service.name));
  // Several instances: the one to act on is an instance that is not up, if any.
  const instances = instancesOf(plan.initial, service.name);
  const before = instances.find((p) => !isUp(p)) ?? instances[0];
  const stateBefore = serviceState(before);
  let note: string | null = service.kind === 'tool' ? 'tool: no port, no /health' : null;

  if (before && isUp(before)) {
    note = `PM2 status ${before.status}; nothing to do`;
    if (!mustBeHealthy) {
      return {
        ...base,
        action: 'already running',
        note,
        ok: true,
        healthy: null,
        state: stateBefore,
        pid: before.pid || null,
        failure: null,
      };
    }
    const outcome = await waitUntilHealthy(service, watcher, {
      timeoutMs: plan.timeoutMs,
      restartsBefore: before.restarts,
      marks: undefined,
    });
    return {
      ...base,
      action: 'already running',
      note,
      ok: outcome.healthy,
      healthy: outcome.healthy,
      state: serviceState(outcome.info),
      pid: outcome.info?.pid || null,
      failure: outcome.failure ?? null,
    };
  }

  // A cluster's instances that are down are started one at a time; those up keep serving the port.
  const up =
    instances.length > 1 && instances.every((i) => i.clustered)
      ? await rollingRestart(
          context,
          service,
          instances.filter((i) => !isUp(i)),
        )
      : await bringUp(context, service, before);
  if (!up.ok) {
    return {
      ...base,
      action: 'not started',
      ok: false,
      healthy: null,
      state: serviceState(up.info),
      pid: null,
      failure: describeFailure(service, up.info, undefined, up.kind, up.reason),
    };
  }
  if (up.replaced) note = up.replaced;
  else if (up.fresh) note = up.fresh;
  else if (before) note = note ?? `was ${stateBefore}`;
  if (!mustBeHealthy) {
    const info = up.launched ?? (await watcher.find(service.name, 0));
    return {
      ...base,
      action: 'started',
      note,
      ok: true,
      healthy: null,
      state: serviceState(info),
      pid: info?.pid || null,
      failure: null,
    };
  }
  const outcome = await waitUntilHealthy(service, watcher, {
    timeoutMs: plan.timeoutMs,
    restartsBefore: up.restartsBefore,
    marks: up.marks,
    since: up.startedAt,
  });
  plan.timings.note(service.name, up.startedAtDate, {
    healthy: outcome.healthy,
    elapsedMs: outcome.elapsedMs,
    pid: outcome.info?.pid || null,
  });
  return {
    ...base,
    action: 'started',
    note,
    ok: outcome.healthy,
    healthy: outcome.healthy,
    state: serviceState(outcome.info),
    pid: outcome.info?.pid || null,
    elapsedMs: outcome.elapsedMs,
    failure: outcome.failure ?? null,
  };
}

/** Starts `targets` in dependency order; each result goes to the sink as it happens. */
async function startInOrder(plan: Plan): Promise<ServiceResult[]> {
  const outcomes = new Map<string, Promise<ServiceResult>>();
  const byName = new Map(plan.targets.map((s) => [s.name, s]));
  const outcomeOf = (name: string): Promise<ServiceResult> => {
    let outcome = outcomes.get(name);
    if (!outcome) {
      outcome = startOne(byName.get(name) as ServiceEntry, plan, outcomeOf).then((result) => {
        plan.sink.service(result);
        return result;
      });
      outcomes.set(name, outcome);
    }
    return outcome;
  };
  return Promise.all(plan.targets.map((s) => outcomeOf(s.name)));
}

/** `devctl start`: the named services (all when none), what they depend on, and the tools. */
export async function startServices(request: StartRequest, sink: LifecycleSink): Promise<StartOutcome> {
  const limitMs = timeoutMs(request.timeoutSeconds);
  const ecosystem = loadEcosystem();
  assertValidEcosystem(ecosystem);
  // Each checkout runs its own stack (docs/side-by-side.md): say which, and refuse a port that
  // another checkout's stack owns before anything launches.
  const line = stackLine(ecosystem);
  if (line) sink.line(line);
  const clashes = stackClashes(ecosystem);
  if (clashes.length > 0) {
    throw new CLIError(
      `this stack would use ports of another checkout's stack; nothing was started:\n${clashes.map((c) => `  ${c}`).join('\n')}\nNext: remove the PORT set by hand in ecosystem.config.js (each checkout gets its own block), or stop the other with: devctl stop --stack <its folder>`,
      1,
      { clashes },
    );
  }
  const stack = ecosystem.stack
    ? { block: ecosystem.stack.block, web: ecosystem.stack.web, reason: ecosystem.stack.reason }
    : undefined;
  // Everything below reads PM2's state and acts on it: one caller at a time per stack.
  const outcome = await withStackLock(ecosystem.namespace, 'start', sink, () =>
    startLocked(ecosystem, request, limitMs, sink),
  );
  return stack ? { ...outcome, stack } : outcome;
}

async function startLocked(
  ecosystem: Ecosystem,
  request: StartRequest,
  limitMs: number,
  sink: LifecycleSink,
): Promise<StartOutcome> {
  const named = resolveServices(ecosystem, request.names);
  // The tools (the log rotator) run whenever any part of the stack does: rotation is not opt-in.
  const targets = [...withDependencies(ecosystem, named), ...ecosystem.tools];
  // Build only what is going to be launched: a running service keeps running its current code.
  const before = (await listProcesses({ namespace: ecosystem.namespace })) ?? [];
  const toLaunch = targets.filter((t) => {
    const instances = instancesOf(before, t.name);
    return instances.length === 0 || !instances.every(isUp);
  });
  const added = toLaunch.filter((t) => !named.includes(t) && t.kind === 'service');
  if (added.length > 0) {
    sink.line(
      `also starting ${added.map((s) => s.name).join(', ')} (needed by ${named.map((s) => s.name).join(', ')})`,
    );
  }
  // Tools are neither built nor dry-run: they are not the project's services.
  const servicesToLaunch = toLaunch.filter((t) => t.kind === 'service');
  if (request.build) await buildStep(ecosystem, servicesToLaunch, sink, 'start');
  assertValidEcosystem(ecosystem, { checkScriptsOf: toLaunch });
  await assertValidConfig(ecosystem, servicesToLaunch, 'start');

  const { connection, launched } = await connectOrLaunchDaemon(daemonNotices(sink));
  if (launched) sink.line(`started the PM2 daemon (PM2_HOME=${pm2Home()})`);
  const watcher = new ProcessWatcher(connection, ecosystem.namespace);
  try {
    watcher.errorOutput = await ErrorOutput.open(ecosystem.namespace);
    const timings = new TimingRecorder(ecosystem.root);
    const results = await startInOrder({
      ecosystem,
      initial: await watcher.list(0),
      context: { connection, watcher, root: ecosystem.root },
      targets,
      wait: request.wait,
      timeoutMs: limitMs,
      sink,
      timings,
    });
    timings.save();
    // A verified point (--wait, a service this start launched and saw healthy): what diagnose
    // compares with to name what changed since a service last worked. One already running was not
    // verified by this start (it answers /health, which says nothing of its answers).
    const healthy = request.wait
      ? results.filter((r) => r.healthy === true && r.action !== 'already running')
      : [];
    if (healthy.length > 0) {
      const now = await watcher.list(0);
      recordHealthy(
        ecosystem.root,
        targets
          .filter((t) => t.kind === 'service' && healthy.some((r) => r.name === t.name))
          .map((service) => ({ service, startedAt: now.find((p) => p.name === service.name)?.startedAt })),
      );
    }
    return { namespace: ecosystem.namespace, results };
  } finally {
    watcher.errorOutput?.close();
    connection.close();
  }
}
