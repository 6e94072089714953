// The graph for people (a tree in start order) and for documents (a Mermaid flowchart). Both draw
// edges in start order: a service hangs under (or is pointed to by) each service it waits for.
import { c } from '../output/colors';
import type { GraphNode, StackGraph } from './build';

/** 640ms under a second, 1.3s above: start-up times differ in tenths, not in whole seconds. */
export function formatStartup(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))}ms` : `${(ms / 1000).toFixed(1)}s`;
}

const clock = (iso: string) => new Date(iso).toISOString().slice(11, 23);

function paintState(state: string): string {
  if (state === 'online') return c.green(state);
  if (state === 'errored' || state === 'crash-loop') return c.red(state);
  if (state === 'launching' || state === 'stopping') return c.yellow(state);
  return c.gray(state);
}

/** The timing cell: the measured figure, or why there is none (never invented). */
export function timingText(node: GraphNode): string {
  const startup = node.startup;
  switch (node.timing) {
    case 'unknown':
      return 'start-up time unknown (never started with --wait)';
    case 'never-healthy':
      return `last start (${clock(startup?.launchedAt as string)}) never became healthy`;
    case 'earlier-process':
      return startup?.launchToHealthyMs !== null && startup?.launchToHealthyMs !== undefined
        ? `${formatStartup(startup.launchToHealthyMs)} to healthy for pid ${startup.pid}, an earlier process (relaunched since without --wait)`
        : `last waited-for start was pid ${startup?.pid}, an earlier process`;
    case 'recorded':
      return `${formatStartup(startup?.launchToHealthyMs ?? 0)} launch to healthy`;
  }
}

/** What follows a service's name on its line: state, pid, timing, marks. */
function nodeDetails(node: GraphNode): string {
  const pid = node.pid === null ? '' : ` pid ${node.pid}`;
  const health = node.healthy === false ? ` ${c.red('/health failing')}` : '';
  const mark = node.critical ? ` ${c.magenta('◆ critical')}` : '';
  const missing =
    node.missingDependencies.length > 0
      ? `  ${c.red(`depends on ${node.missingDependencies.join(', ')}, not in ecosystem.config.js`)}`
      : '';
  return `${paintState(node.state)}${pid}${health}  ${c.gray(timingText(node))}${mark}${missing}`;
}

/** The tree: roots are the services that wait for nobody, each dependant under each service it waits for. */
export function renderGraphText(
  graph: StackGraph,
  namespace: string,
  daemon?: { running: boolean; pm2Home: string },
): string {
  const byName = new Map(graph.nodes.map((node) => [node.name, node]));
  const lines: string[] = [
    `${c.bold('graph')} of ${namespace} ${c.gray('(a service is listed under each service it waits for)')}`,
  ];
  // Tree rows first, so that the columns after the names line up.
  const rows: { tree: string; name: string; details: string }[] = [];
  const drawn = new Set<string>();
  const walk = (node: GraphNode, prefix: string, last: boolean, depth: number, path: Set<string>) => {
    const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
    if (path.has(node.name)) {
      rows.push({ tree: `${prefix}${branch}`, name: node.name, details: c.red('(cycle)') });
      return;
    }
    if (drawn.has(node.name)) {
      rows.push({ tree: `${prefix}${branch}`, name: node.name, details: c.gray('(see above)') });
      return;
    }
    drawn.add(node.name);
    const name = node.kind === 'tool' ? `${node.name} (tool)` : node.name;
    rows.push({ tree: `${prefix}${branch}`, name, details: nodeDetails(node) });
    const children = node.dependants.map((name) => byName.get(name)).filter((n): n is GraphNode => !!n);
    const childPrefix = depth === 0 ? prefix : `${prefix}${last ? '   ' : '│  '}`;
    const inner = new Set(path).add(node.name);
    for (const [i, child] of children.entries()) {
      walk(child, childPrefix, i === children.length - 1, depth + 1, inner);
    }
  };
  const roots = graph.nodes.filter((node) => node.dependsOn.length === 0);
  for (const root of roots) walk(root, '', true, 0, new Set());
  // What no root reaches sits on a cycle (or waits on one): draw it too, from its first member.
  for (const node of graph.nodes) if (!drawn.has(node.name)) walk(node, '', true, 0, new Set());
  const width = Math.max(0, ...rows.map((row) => row.tree.length + row.name.length));
  for (const row of rows) {
    const pad = ' '.repeat(width - row.tree.length - row.name.length);
    lines.push(`${row.tree}${c.bold(row.name)}${pad}  ${row.details}`);
  }
  for (const cycle of graph.cycles) {
    lines.push(
      c.red(
        `cycle: ${[...cycle, cycle[0]].join(' → ')} wait on each other; devctl start refuses this: remove one depends_on in ecosystem.config.js`,
      ),
    );
  }
  if (daemon && !daemon.running) {
    lines.push(
      `${c.yellow('PM2 daemon is not running')} (PM2_HOME=${daemon.pm2Home}): nothing of ${namespace} runs; start it with ${c.bold('pnpm pm2:start')}`,
    );
  }
  const chain = graph.criticalChain;
  if (!chain) {
    lines.push(
      c.gray(
        'critical chain: unknown, no start with --wait recorded; run devctl start --wait, then devctl graph',
      ),
    );
  } else {
    const steps = chain.links.map((link) => {
      const waited = link.waitedMs !== null ? `${c.gray(`+${formatStartup(link.waitedMs)}`)} → ` : '';
      return `${waited}${link.name} ${formatStartup(link.launchToHealthyMs)}`;
    });
    lines.push(
      `${c.magenta('critical chain')} of the start at ${chain.run.replace('T', ' ').slice(0, 19)} UTC: ${formatStartup(chain.totalMs)} from first launch to last healthy`,
    );
    lines.push(`  ${steps.join(' → ')}`);
    if (chain.notHealthy.length > 0) {
      lines.push(
        c.red(
          `  never healthy in that start: ${chain.notHealthy.join(', ')}; find out why with devctl diagnose ${chain.notHealthy.join(' ')}`,
        ),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Mermaid ids must be plain words; PM2 names may hold dots or dashes. */
const mermaidId = (index: number) => `s${index}`;

/** Mermaid labels: quotes and angle brackets would end the label early. */
const mermaidText = (text: string) => text.replace(/["<>]/g, "'");

/** A `flowchart LR`: nodes coloured by state, the critical chain's edges thick. */
export function renderGraphMermaid(graph: StackGraph): string {
  const ids = new Map(graph.nodes.map((node, i) => [node.name, mermaidId(i)]));
  const lines = ['flowchart LR'];
  for (const node of graph.nodes) {
    const timing =
      node.timing === 'recorded' && node.startup?.launchToHealthyMs != null
        ? formatStartup(node.startup.launchToHealthyMs)
        : node.timing === 'never-healthy'
          ? 'never healthy'
          : node.timing === 'earlier-process'
            ? 'timing of an earlier process'
            : 'start-up time unknown';
    const label = `${mermaidText(node.name)}<br/>${mermaidText(`${node.state} · ${timing}`)}`;
    lines.push(`  ${ids.get(node.name)}["${label}"]`);
  }
  const chain = graph.criticalChain?.links.map((link) => link.name) ?? [];
  const criticalEdges: number[] = [];
  let edge = 0;
  for (const node of graph.nodes) {
    for (const dep of node.dependsOn) {
      const depIndex = chain.indexOf(dep);
      if (depIndex >= 0 && chain[depIndex + 1] === node.name) criticalEdges.push(edge);
      lines.push(`  ${ids.get(dep)} --> ${ids.get(node.name)}`);
      edge++;
    }
  }
  lines.push('  classDef online fill:#d4f7d4,stroke:#2a7a2a');
  lines.push('  classDef down fill:#eeeeee,stroke:#888888');
  lines.push('  classDef failing fill:#f9d0d0,stroke:#b22222');
  lines.push('  classDef critical stroke-width:3px');
  for (const node of graph.nodes) {
    const failing = node.state === 'errored' || node.state === 'crash-loop' || node.healthy === false;
    const cls = failing ? 'failing' : node.state === 'online' ? 'online' : 'down';
    lines.push(`  class ${ids.get(node.name)} ${cls}${node.critical ? ',critical' : ''}`);
  }
  if (criticalEdges.length > 0)
    lines.push(`  linkStyle ${criticalEdges.join(',')} stroke-width:4px,stroke:#8b008b`);
  return `${lines.join('\n')}\n`;
}
