// graph: `devctl graph --json`'s report, from the same collectGraph.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadEcosystem } from '../../ecosystem/index';
import { collectGraph } from '../../graph/index';
import { jsonResult } from '../result';

export async function graphTool(): Promise<CallToolResult> {
  return jsonResult({ ...(await collectGraph(loadEcosystem())) });
}
