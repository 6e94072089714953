// stacks: `devctl stacks --json`'s report, from the same collectStacks.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { findProjectRoot } from '../../ecosystem/index';
import { collectStacks } from '../../stacks/index';
import { jsonResult } from '../result';

export async function stacksTool(): Promise<CallToolResult> {
  const report = await collectStacks({ currentRoot: findProjectRoot() });
  return jsonResult({ ...report });
}
