// diagnose: `devctl diagnose --json`'s report, from the same collector and detectors.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { diagnose } from '../../diagnose/index';
import { parseSince } from '../../logs/since';
import { jsonResult } from '../result';
import { namesOf } from './names';

export async function diagnoseTool(args: { service?: string; since?: string }): Promise<CallToolResult> {
  const notBefore = args.since === undefined ? undefined : parseSince(args.since);
  const report = await diagnose({ names: namesOf(args.service), notBefore });
  return jsonResult({ ...report });
}
