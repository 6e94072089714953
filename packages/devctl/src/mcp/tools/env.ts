// env: `devctl env --json` (each variable's value, masked, and where it comes from). It runs the
// service's entry with --print-config, so it goes through the real command.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { maskValue, shortHashOf } from '../../output/mask';
import { documentOf, runDevctl } from '../devctl-process';
import { jsonResult } from '../result';
import { namesOf } from './names';

interface EnvDocument {
  services?: { name: string; variables?: { name: string; value: string | null; hash?: unknown }[] }[];
}

const ENV_TIMEOUT_MS = 120_000;

export async function envTool(args: { service?: string }, signal?: AbortSignal): Promise<CallToolResult> {
  const names = namesOf(args.service);
  const run = await runDevctl(['env', ...names], { signal, timeoutMs: ENV_TIMEOUT_MS });
  const document = documentOf(run, `env ${names.join(' ')}`.trim()) as EnvDocument;
  // devctl env masks already; masking again here costs nothing and survives a regression there.
  for (const service of document.services ?? []) {
    for (const variable of service.variables ?? []) {
      variable.value = maskValue(variable.name, variable.value);
      // Only the kit's short hash may stand beside a masked secret.
      if ('hash' in variable) variable.hash = shortHashOf(variable.hash);
    }
  }
  return jsonResult({ ...document });
}
