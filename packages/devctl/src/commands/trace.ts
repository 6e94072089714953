// devctl trace <request-id> | --last-error [--json]: the path of one request across the services,
// each hop with its status and duration, the error with its source line, where it began, the next
// step. Exit 0 when the request did not fail, 1 when it did (or was not found).
import { EXIT_FAILURE } from '../errors';

export interface TraceCommandOptions {
  requestId: string | undefined;
  lastError: boolean;
  json: boolean;
}

export async function runTrace(options: TraceCommandOptions): Promise<void> {
  const { trace, renderTrace } = await import('../trace/index');
  const result = await trace({ requestId: options.requestId, lastError: options.lastError });
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${renderTrace(result)}\n`);
  if (result.failed) process.exitCode = EXIT_FAILURE;
}
