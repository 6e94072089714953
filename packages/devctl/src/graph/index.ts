// `devctl graph` for every face (CLI, MCP, a future dashboard): the ecosystem's depends_on, the
// states from the same collectStatus `devctl status` uses, and the timings start/restart recorded.

import { allApps, type Ecosystem } from '../ecosystem/index';
import { collectStatus, type StatusReport } from '../status/index';
import { buildGraph, type StackGraph } from './build';
import { readTimings } from './timings';

export type { ChainLink, CriticalChain, GraphNode, StackGraph, TimingStatus } from './build';
export { renderGraphMermaid, renderGraphText } from './render';

/** `devctl graph --json`: one documented shape (README). */
export interface GraphReport extends StackGraph {
  namespace: string;
  daemon: StatusReport['daemon'];
}

export async function collectGraph(ecosystem: Ecosystem): Promise<GraphReport> {
  const status = await collectStatus(ecosystem, []);
  const graph = buildGraph(allApps(ecosystem), status.services, readTimings(ecosystem.root));
  return { namespace: ecosystem.namespace, daemon: status.daemon, ...graph };
}
