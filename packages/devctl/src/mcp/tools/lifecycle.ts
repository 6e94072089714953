// start, stop, restart: the real commands with --json, run as a child (the lifecycle domain,
// src/lifecycle/, builds and talks to PM2, and this process's stdout is the protocol). restart
// always waits for /health and ends with the domain's verdict on the restarted services -- healthy
// only when every restart took and diagnose found nothing new since -- so the agent learns from
// one call whether its fix worked, exactly as `devctl restart --wait` exits.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { documentOf, runDevctl } from '../devctl-process';
import { jsonResult } from '../result';

export interface LifecycleArgs {
  /** A PM2 name, or `all`. */
  service: string;
  build?: boolean;
  timeoutSeconds?: number;
}

export interface CallContext {
  signal?: AbortSignal;
  /** Reports progress while a command runs (keeps a client's request timeout from expiring). */
  progress?: (message: string) => void;
}

/** Enough for a build and a wait of timeoutSeconds per dependency wave; the command enforces its own. */
function limitMs(args: LifecycleArgs): number {
  return 600_000 + (args.timeoutSeconds ?? 30) * 1000;
}

function optionsOf(args: LifecycleArgs): string[] {
  return [
    ...(args.build === false ? ['--no-build'] : []),
    ...(args.timeoutSeconds !== undefined ? ['--timeout', String(args.timeoutSeconds)] : []),
  ];
}

async function run(command: string[], args: LifecycleArgs, context: CallContext) {
  const line = [...command, args.service].join(' ');
  const result = await runDevctl([...command, args.service, ...optionsOf(args)], {
    signal: context.signal,
    timeoutMs: limitMs(args),
    onTick: (elapsedMs) => context.progress?.(`devctl ${line}: ${Math.round(elapsedMs / 1000)} s`),
  });
  return documentOf(result, line);
}

export async function startTool(
  args: LifecycleArgs & { wait?: boolean },
  context: CallContext,
): Promise<CallToolResult> {
  const command = args.wait === false ? ['start'] : ['start', '--wait'];
  return jsonResult(await run(command, args, context));
}

export async function stopTool(args: { service: string }, context: CallContext): Promise<CallToolResult> {
  return jsonResult(await run(['stop'], { service: args.service }, context));
}

export async function restartTool(args: LifecycleArgs, context: CallContext): Promise<CallToolResult> {
  const report = await run(['restart', '--wait'], args, context);
  const services = (report.services as { ok?: unknown }[] | undefined) ?? [];
  // `ok` is the command's own (its exit code): every restart took and the verdict is healthy.
  return jsonResult({
    ...report,
    ok: report.ok === true,
    restartOk: services.length > 0 && services.every((s) => s.ok === true),
    verdict: report.verdict ?? null,
  });
}
