// start, stop, restart: the real commands with --json (they print progress as they go, and this
// process's stdout is the protocol). restart always waits for /health and ends with diagnose's
// verdict on the restarted services, so the agent learns from one call whether its fix worked.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { verdictAfterRestart } from '../../diagnose/index';
import type { DiagnoseReport } from '../../diagnose/types';
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

/** Healthy the way `restart --wait` judges it (its exit code): diagnose found nothing new. */
function verdictIsOk(verdict: unknown): boolean {
  if (verdict === null || typeof verdict !== 'object') return true;
  const record = verdict as { healthy?: unknown; ok?: unknown; findings?: unknown[] };
  if (typeof record.healthy === 'boolean') return record.healthy;
  if (typeof record.ok === 'boolean') return record.ok;
  return (record.findings ?? []).length === 0;
}

export async function restartTool(args: LifecycleArgs, context: CallContext): Promise<CallToolResult> {
  const startedAt = new Date();
  const report = await run(['restart', '--wait'], args, context);
  const services = (report.services as { name: string }[] | undefined) ?? [];
  // `restart --wait --json` carries diagnose's verdict; should it ever lack one, ask diagnose
  // directly what happened since the restart began, so the tool always answers with a verdict.
  const verdict: unknown =
    report.verdict ??
    (services.length > 0
      ? ((await verdictAfterRestart(
          services.map((s) => s.name),
          startedAt,
        )) satisfies DiagnoseReport)
      : null);
  const ok = report.ok === true && verdictIsOk(verdict);
  return jsonResult({ ...report, ok, restartOk: report.ok, verdict });
}
