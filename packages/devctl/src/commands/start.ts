// `devctl start [names...]`: builds, then launches the services under PM2 in dependency order. A
// service starts once every service it depends on answers /health; independent services start in
// parallel. Each port is checked first: a held port is reported with its holder, and the doomed
// service is not launched. Already running services are left alone.
import { buildServices } from '../ecosystem/build';
import {
  assertValidEcosystem,
  type Ecosystem,
  loadEcosystem,
  resolveServices,
  type ServiceEntry,
  withDependencies,
} from '../ecosystem/index';
import { preflightConfig } from '../ecosystem/print-config';
import { CLIError } from '../errors';
import { c } from '../output/colors';
import { formatDuration, plural } from '../output/format';
import { nameWidth, renderServiceResult } from '../output/report';
import {
  connectOrLaunchDaemon,
  launchApp,
  listProcesses,
  pm2Home,
  restartEnv,
  restartProcess,
} from '../pm2/index';
import type { DaemonConnection } from '../pm2/rpc';
import { isRunningState, serviceState } from '../pm2/state';
import {
  clearPort,
  describeFailure,
  type LogMarks,
  markLogs,
  ProcessWatcher,
  type ServiceResult,
  waitUntilHealthy,
} from '../pm2/supervise';
import type { ProcessInfo } from '../pm2/types';

export interface StartOptions {
  names: string[];
  /** Wait until every started service answers /health (exit 1 naming those that do not). */
  wait: boolean;
  /** Build the services first (turbo), so PM2 runs the code on disk. */
  build: boolean;
  /** How long --wait (and a dependency) may take per service, in seconds (default 30). */
  timeoutSeconds?: number;
  json: boolean;
}

export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Prints human progress as it happens; collects everything for --json. */
export class Reporter {
  readonly results: ServiceResult[] = [];
  constructor(
    readonly json: boolean,
    private readonly width: number,
  ) {}

  line(text: string): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  service(result: ServiceResult): void {
    this.results.push(result);
    if (!this.json) process.stdout.write(renderServiceResult(result, this.width));
  }
}

export function timeoutMs(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CLIError(`--timeout must be a positive number of seconds, not ${seconds}`, 2);
  }
  return seconds * 1000;
}

/** Runs the build step for `services` and reports it; nothing to do without --build. */
export async function buildStep(
  ecosystem: Ecosystem,
  services: ServiceEntry[],
  reporter: Reporter,
): Promise<void> {
  if (services.length === 0) return;
  const result = await buildServices(ecosystem.root, services);
  if (result.command === null) return;
  const cached = result.cached === null ? '' : `, ${result.cached} cached`;
  reporter.line(
    c.gray(
      `built ${plural(result.packages.length, 'service')} in ${formatDuration(result.elapsedMs)} (${result.command.split(' ')[0]}${cached})`,
    ),
  );
}

interface StartContext {
  ecosystem: Ecosystem;
  /** PM2's processes of the namespace when the command began. */
  initial: ProcessInfo[];
  connection: DaemonConnection;
  watcher: ProcessWatcher;
  targets: ServiceEntry[];
  wait: boolean;
  timeoutMs: number;
  reporter: Reporter;
}

/** Starts one service once its dependencies are healthy; resolves with what happened. */
async function startOne(
  service: ServiceEntry,
  context: StartContext,
  outcomeOf: (name: string) => Promise<ServiceResult>,
): Promise<ServiceResult> {
  const { ecosystem, connection, watcher, targets } = context;
  const inTargets = new Set(targets.map((t) => t.name));
  const dependencies = service.dependsOn.filter((dep) => inTargets.has(dep));
  const dependencyResults = await Promise.all(dependencies.map(outcomeOf));
  const base = { name: service.name, port: service.port ?? null, elapsedMs: null, note: null };
  const failedDependency = dependencyResults.find((r) => !r.ok);
  if (failedDependency) {
    return {
      ...base,
      action: 'not started',
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
          `depends on ${failedDependency.name}, which is not healthy`,
        ),
        next: `fix ${failedDependency.name} first (see above), then: devctl start ${service.name}`,
      },
    };
  }
  // Dependants wait for this service's health even without --wait.
  const hasDependants = targets.some((t) => t.dependsOn.includes(service.name));
  const mustBeHealthy = context.wait || hasDependants;

  // The state at the start of the command: only this command changes this service meanwhile.
  const before = context.initial.find((p) => p.name === service.name);
  const stateBefore = serviceState(before);
  let marks: LogMarks | undefined;
  let action: string;
  let note: string | null = service.kind === 'tool' ? 'tool: no port, no /health' : null;
  let restartsBefore = before?.restarts ?? 0;
  let actionStarted: number | undefined;
  let launched: ProcessInfo | undefined;
  if (before && isRunningState(stateBefore)) {
    action = 'already running';
    note = `PM2 status ${before.status}; nothing to do`;
  } else {
    const { blocker, replaced } = await clearPort(service, ecosystem.root, before);
    if (replaced) note = `replaced a leftover ${service.name} run without PM2 (pid ${replaced})`;
    if (blocker) {
      return {
        ...base,
        action: 'not started',
        ok: false,
        healthy: null,
        state: stateBefore,
        pid: null,
        failure: describeFailure(service, before, undefined, 'port-in-use', blocker),
      };
    }
    marks = markLogs(service, before);
    actionStarted = performance.now();
    try {
      if (before) {
        // Stopped or errored in PM2: start the same entry with the ecosystem's current settings.
        launched = await restartProcess(connection, before.pmId, restartEnv(service.app));
        note = note ?? `was ${stateBefore}`;
      } else {
        [launched] = await launchApp(connection, service.app, ecosystem.root);
      }
    } catch (error) {
      watcher.invalidate();
      return {
        ...base,
        action: 'not started',
        ok: false,
        healthy: null,
        state: serviceState(await watcher.find(service.name)),
        pid: null,
        failure: describeFailure(
          service,
          before,
          marks,
          'launch-failed',
          `PM2 could not launch it: ${(error as Error).message}`,
        ),
      };
    }
    watcher.invalidate();
    action = 'started';
    restartsBefore = before?.restarts ?? 0;
  }

  if (!mustBeHealthy) {
    const info = launched ?? (await watcher.find(service.name, 0));
    return {
      ...base,
      action,
      note,
      ok: true,
      healthy: null,
      state: serviceState(info),
      pid: info?.pid || null,
      failure: null,
    };
  }
  const outcome = await waitUntilHealthy(service, watcher, {
    timeoutMs: context.timeoutMs,
    restartsBefore,
    marks,
    since: actionStarted,
    launched: launched ?? before,
  });
  return {
    ...base,
    action,
    note,
    ok: outcome.healthy,
    healthy: outcome.healthy,
    state: serviceState(outcome.info),
    pid: outcome.info?.pid || null,
    elapsedMs: action === 'already running' ? null : outcome.elapsedMs,
    failure: outcome.failure ?? null,
  };
}

/** Starts `targets` in dependency order on an open connection. */
export async function startServices(context: StartContext): Promise<ServiceResult[]> {
  const outcomes = new Map<string, Promise<ServiceResult>>();
  const byName = new Map(context.targets.map((s) => [s.name, s]));
  const outcomeOf = (name: string): Promise<ServiceResult> => {
    let outcome = outcomes.get(name);
    if (!outcome) {
      outcome = startOne(byName.get(name) as ServiceEntry, context, outcomeOf).then((result) => {
        context.reporter.service(result);
        return result;
      });
      outcomes.set(name, outcome);
    }
    return outcome;
  };
  const results = await Promise.all(context.targets.map((s) => outcomeOf(s.name)));
  return results;
}

/** Prints the --json report or the summary, and sets exit code 1 when a service failed. */
export function finishReport(
  command: string,
  results: ServiceResult[],
  json: boolean,
  extra: Record<string, unknown> = {},
): void {
  const failed = results.filter((r) => !r.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, ...extra, services: results })}\n`);
    if (failed.length > 0) process.exitCode = 1;
    return;
  }
  if (failed.length > 0) {
    throw new CLIError(
      `${command}: ${failed.length} of ${plural(results.length, 'service')} failed: ${failed.map((r) => r.name).join(', ')} (details above)`,
    );
  }
}

/**
 * Refuses, before anything is launched, a configuration a service would reject at start (the dry
 * run of each service's `--print-config`), naming the service and the variable.
 */
export async function assertValidConfig(
  ecosystem: Ecosystem,
  services: ServiceEntry[],
  command: 'start' | 'restart' = 'start',
): Promise<void> {
  const problems = await preflightConfig(services, ecosystem.root);
  if (problems.length === 0) return;
  const names = [...new Set(problems.map((p) => p.service))];
  throw new CLIError(
    `${plural(names.length, 'service')} would refuse ${names.length === 1 ? 'its' : 'their'} configuration; nothing was ${command === 'start' ? 'started' : 'restarted'}:\n${problems
      .map((p) => `  ${p.service}: ${p.field}: ${p.message}`)
      .join(
        '\n',
      )}\nnext: fix the value, check it with ${names.map((n) => `devctl env ${n}`).join(', ')}, then devctl ${command}`,
    1,
    { problems, file: ecosystem.file },
  );
}

export async function runStart(options: StartOptions): Promise<void> {
  const limitMs = timeoutMs(options.timeoutSeconds);
  const ecosystem = loadEcosystem();
  assertValidEcosystem(ecosystem);
  const named = resolveServices(ecosystem, options.names);
  // The tools (the log rotator) run whenever any part of the stack does: rotation is not opt-in.
  const targets = [...withDependencies(ecosystem, named), ...ecosystem.tools];
  const reporter = new Reporter(options.json, nameWidth(targets.map((t) => t.name)));
  // Build only what is going to be launched: a running service keeps running its current code.
  const before = (await listProcesses({ namespace: ecosystem.namespace })) ?? [];
  const toLaunch = targets.filter(
    (t) => !isRunningState(serviceState(before.find((p) => p.name === t.name))),
  );
  const added = toLaunch.filter((t) => !named.includes(t) && t.kind === 'service');
  if (added.length > 0) {
    reporter.line(
      c.gray(
        `also starting ${added.map((s) => s.name).join(', ')} (needed by ${named.map((s) => s.name).join(', ')})`,
      ),
    );
  }
  // Tools are neither built nor dry-run: they are not the project's services.
  const servicesToLaunch = toLaunch.filter((t) => t.kind === 'service');
  if (options.build) await buildStep(ecosystem, servicesToLaunch, reporter);
  assertValidEcosystem(ecosystem, { checkScriptsOf: toLaunch });
  await assertValidConfig(ecosystem, servicesToLaunch);

  const { connection, launched } = await connectOrLaunchDaemon();
  if (launched) reporter.line(c.gray(`started the PM2 daemon (PM2_HOME=${pm2Home()})`));
  try {
    const watcher = new ProcessWatcher(connection, ecosystem.namespace);
    const results = await startServices({
      ecosystem,
      initial: await watcher.list(),
      connection,
      watcher,
      targets,
      wait: options.wait,
      timeoutMs: limitMs,
      reporter,
    });
    finishReport('start', results, options.json, { namespace: ecosystem.namespace });
  } finally {
    connection.close();
  }
}
