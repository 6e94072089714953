// The stack's dependency graph as pure data: who waits on whom (`depends_on`), each service's state
// now, its last measured start (launch -> healthy) and the critical chain of the last start. No I/O:
// the inputs are the ecosystem's entries, the states `status` collects and the recorded timings, so
// every rule here is table-tested (test/graph-build.test.ts).
import type { StartTiming, StartTimings } from './timings';

/** What the graph needs of an ecosystem entry (a ServiceEntry fits). */
export interface GraphEntry {
  name: string;
  kind: 'service' | 'tool';
  dependsOn: readonly string[];
}

/** What the graph needs of a service's status (a ServiceStatus of `devctl status` fits). */
export interface GraphState {
  name: string;
  status: string;
  pid: number | null;
  health: { ok: boolean } | null;
}

/**
 * How much is known of a service's last start:
 * - `recorded`: launched by a start/restart that waited, and it became healthy; the process that
 *   answered then is the one running now (or none runs now);
 * - `never-healthy`: its last waited-for start gave up before /health answered;
 * - `earlier-process`: recorded, but another process runs now (PM2 relaunched it after a crash, or
 *   it was started without waiting): the figure is of an earlier run, not of the current process;
 * - `unknown`: never started by a command that waited for /health.
 */
export type TimingStatus = 'recorded' | 'never-healthy' | 'earlier-process' | 'unknown';

export interface GraphStartup {
  launchedAt: string;
  healthyAt: string | null;
  /** Launch to healthy as start/restart measured and printed it; null when it never became healthy. */
  launchToHealthyMs: number | null;
  pid: number | null;
  run: string;
}

export interface GraphNode {
  name: string;
  kind: 'service' | 'tool';
  /** Services it waits for at start (in the ecosystem). */
  dependsOn: string[];
  /** `depends_on` names that no app of the ecosystem has. */
  missingDependencies: string[];
  /** Services that wait for it. */
  dependants: string[];
  /** State as `devctl status` names it; `not started` when PM2 does not know it. */
  state: string;
  pid: number | null;
  /** The live /health answer: null when not probed (not running, or no port). */
  healthy: boolean | null;
  timing: TimingStatus;
  /** The last measured start; null when `unknown`. */
  startup: GraphStartup | null;
  /** Part of the critical chain. */
  critical: boolean;
}

/** One service of the critical chain, in start order. */
export interface ChainLink {
  name: string;
  launchedAt: string;
  healthyAt: string;
  launchToHealthyMs: number;
  /** From the previous link's healthy to this launch (devctl's own gap); null for the first. */
  waitedMs: number | null;
}

export interface CriticalChain {
  /** The run (start or restart command) it is of: when that command began launching. */
  run: string;
  links: ChainLink[];
  /** From the first link's launch to the last link's healthy. */
  totalMs: number;
  /** Services that run launched which never became healthy (the chain then ends before them). */
  notHealthy: string[];
}

export interface StackGraph {
  nodes: GraphNode[];
  /** Groups of services whose `depends_on` form a cycle (`devctl start` refuses such a file). */
  cycles: string[][];
  criticalChain: CriticalChain | null;
}

const ms = (iso: string) => Date.parse(iso);

function timingOf(
  recorded: StartTiming | undefined,
  state: GraphState | undefined,
): { timing: TimingStatus; startup: GraphStartup | null } {
  if (!recorded) return { timing: 'unknown', startup: null };
  const startup: GraphStartup = {
    launchedAt: recorded.launchedAt,
    healthyAt: recorded.healthyAt,
    launchToHealthyMs: recorded.launchToHealthyMs,
    pid: recorded.pid,
    run: recorded.run,
  };
  const runningPid = state?.pid ?? null;
  if (runningPid !== null && recorded.pid !== runningPid) return { timing: 'earlier-process', startup };
  return { timing: recorded.healthyAt === null ? 'never-healthy' : 'recorded', startup };
}

/**
 * The groups of entries that depend on each other in a circle (Tarjan's strongly connected
 * components; a service that lists itself counts). The ecosystem loader reads such a file, only
 * `start` refuses it, so graph must draw it and say so rather than loop.
 */
export function dependencyCycles(entries: readonly GraphEntry[]): string[][] {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (name: string) => {
    index.set(name, counter);
    low.set(name, counter);
    counter++;
    stack.push(name);
    onStack.add(name);
    for (const dep of byName.get(name)?.dependsOn ?? []) {
      if (!byName.has(dep)) continue;
      if (!index.has(dep)) {
        visit(dep);
        low.set(name, Math.min(low.get(name) as number, low.get(dep) as number));
      } else if (onStack.has(dep)) {
        low.set(name, Math.min(low.get(name) as number, index.get(dep) as number));
      }
    }
    if (low.get(name) === index.get(name)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        group.push(member);
      } while (member !== name);
      const selfLoop = group.length === 1 && byName.get(name)?.dependsOn.includes(name);
      if (group.length > 1 || selfLoop) cycles.push(group.reverse());
    }
  };
  for (const entry of entries) if (!index.has(entry.name)) visit(entry.name);
  return cycles;
}

/**
 * The critical chain: the path of waits that decided how long the last start took.
 *
 * Defined on the most recent run (the latest `run` among the timings: one start or restart
 * command), over the services it launched that became healthy:
 * - the chain ends at the service that became healthy last: the stack was up then;
 * - the link before a service S is the dependency of S, launched by the same run, that became
 *   healthy last but no later than S's launch: devctl launches S once every dependency answers
 *   /health, so that one is what S was waiting for (a dependency already running, or healthy
 *   after S launched, did not hold S back);
 * - it starts at a service with no such dependency.
 * Its length, `totalMs`, is the last link's healthy minus the first link's launch: the start-up
 * time of the stack as that run saw it (build and configuration checks before the first launch
 * are not counted). Each link also gives the gap between its dependency's healthy and its own
 * launch (`waitedMs`), which is devctl's own overhead, not the service's.
 * Only measured times are used: with no run that made a service healthy, there is no chain.
 */
export function criticalChain(entries: readonly GraphEntry[], timings: StartTimings): CriticalChain | null {
  const runs = Object.values(timings).map((t) => t.run);
  if (runs.length === 0) return null;
  const run = runs.reduce((latest, r) => (ms(r) > ms(latest) ? r : latest));
  const inRun = entries.filter((e) => timings[e.name]?.run === run);
  const healthy = new Map<
    string,
    { entry: GraphEntry; launched: number; healthy: number; timing: StartTiming }
  >();
  for (const entry of inRun) {
    const timing = timings[entry.name] as StartTiming;
    if (timing.healthyAt !== null) {
      healthy.set(entry.name, {
        entry,
        launched: ms(timing.launchedAt),
        healthy: ms(timing.healthyAt),
        timing,
      });
    }
  }
  const notHealthy = inRun.filter((e) => !healthy.has(e.name)).map((e) => e.name);
  if (healthy.size === 0) return null;
  // Ties (same millisecond) go to the name first in alphabetical order, so the answer is stable.
  const latest = <T extends { healthy: number; entry: GraphEntry }>(items: T[]): T | undefined =>
    items.reduce<T | undefined>(
      (best, item) =>
        !best ||
        item.healthy > best.healthy ||
        (item.healthy === best.healthy && item.entry.name < best.entry.name)
          ? item
          : best,
      undefined,
    );
  let current = latest([...healthy.values()]);
  const path: NonNullable<typeof current>[] = [];
  const seen = new Set<string>();
  while (current && !seen.has(current.entry.name)) {
    seen.add(current.entry.name);
    path.unshift(current);
    const launched = current.launched;
    const waitedFor = current.entry.dependsOn
      .map((dep) => healthy.get(dep))
      .filter((dep): dep is NonNullable<typeof dep> => dep !== undefined && dep.healthy <= launched);
    current = latest(waitedFor);
  }
  const links: ChainLink[] = path.map((link, i) => {
    const previous = path[i - 1];
    return {
      name: link.entry.name,
      launchedAt: link.timing.launchedAt,
      healthyAt: link.timing.healthyAt as string,
      launchToHealthyMs: link.timing.launchToHealthyMs as number,
      waitedMs: previous ? link.launched - previous.healthy : null,
    };
  });
  const first = path[0] as (typeof path)[number];
  const last = path[path.length - 1] as (typeof path)[number];
  return { run, links, totalMs: last.healthy - first.launched, notHealthy };
}

/** The graph of `entries` with their states and recorded timings. */
export function buildGraph(
  entries: readonly GraphEntry[],
  states: readonly GraphState[],
  timings: StartTimings,
): StackGraph {
  const known = new Set(entries.map((e) => e.name));
  const chain = criticalChain(entries, timings);
  const onChain = new Set(chain?.links.map((link) => link.name) ?? []);
  const nodes = entries.map((entry): GraphNode => {
    const state = states.find((s) => s.name === entry.name);
    return {
      name: entry.name,
      kind: entry.kind,
      dependsOn: entry.dependsOn.filter((dep) => known.has(dep)),
      missingDependencies: entry.dependsOn.filter((dep) => !known.has(dep)),
      dependants: entries.filter((other) => other.dependsOn.includes(entry.name)).map((other) => other.name),
      state: state?.status ?? 'not started',
      pid: state?.pid ?? null,
      healthy: state?.health ? state.health.ok : null,
      ...timingOf(timings[entry.name], state),
      critical: onChain.has(entry.name),
    };
  });
  return { nodes, cycles: dependencyCycles(entries), criticalChain: chain };
}
