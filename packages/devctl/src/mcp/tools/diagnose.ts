// diagnose: `devctl diagnose --json`'s report, from the same collector and detectors.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { diagnose } from '../../diagnose/index';
import { jsonResult } from '../result';
import { namesOf } from './names';

export async function diagnoseTool(args: { service?: string }): Promise<CallToolResult> {
  const report = await diagnose({ names: namesOf(args.service) });
  return jsonResult({ ...report });
}
