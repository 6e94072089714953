// trace: `devctl trace --json`'s trace of one request (or of the most recent failed one).
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { trace } from '../../trace/index';
import { jsonResult } from '../result';

export async function traceTool(args: { requestId?: string; lastError?: boolean }): Promise<CallToolResult> {
  const requestId = args.requestId?.trim() || undefined;
  // Without an id the only sensible question is the last failure.
  const result = await trace({ requestId, lastError: args.lastError ?? requestId === undefined });
  return jsonResult({ ...result });
}
