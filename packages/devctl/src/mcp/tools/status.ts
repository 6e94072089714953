// status: `devctl status --json`'s report, from the same collectStatus.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadEcosystem } from '../../ecosystem/index';
import { collectStatus, renderStatus } from '../../status/index';
import { jsonResult } from '../result';
import { namesOf } from './names';

export async function statusTool(args: { service?: string }): Promise<CallToolResult> {
  const report = await collectStatus(loadEcosystem(), namesOf(args.service));
  // A stopped daemon is an answer, not an error (as in the CLI): say what to run next.
  const message = report.daemon.running ? undefined : renderStatus(report).trim();
  return jsonResult({ ...report, ...(message ? { message } : {}) });
}
