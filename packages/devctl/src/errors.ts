import { EXIT_FAILURE, EXIT_USAGE } from '@repo/stack-contract';

/** Exit codes of every devctl command: 0 success, 1 failure (with the reason), 2 usage error. */
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '@repo/stack-contract';

/**
 * The one error type commands throw. Its message is what the user reads (what failed, which
 * service, the evidence, the next command); only the entry point prints it and exits.
 */
export class CLIError extends Error {
  override name = 'CLIError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    /** Machine-readable detail for `--json` output. */
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const usageError = (message: string, data?: Record<string, unknown>) =>
  new CLIError(message, EXIT_USAGE, data);

/**
 * Prints an error the way every devctl command does and returns its exit code: the message on
 * stderr (with the stack trace for --verbose or an unexpected error's hint), or one JSON line
 * `{"error": {message, exitCode, ...data}}` on stdout for --json.
 */
export function reportError(error: unknown, options: { json: boolean; verbose: boolean }): number {
  const exitCode = error instanceof CLIError ? error.exitCode : EXIT_FAILURE;
  const message = error instanceof Error ? error.message : String(error);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ error: { message, exitCode, ...(error instanceof CLIError ? error.data : {}) } })}\n`,
    );
  } else {
    process.stderr.write(`devctl: ${message}\n`);
    if (options.verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    else if (!(error instanceof CLIError))
      process.stderr.write('(run again with --verbose for the stack trace)\n');
  }
  return exitCode;
}
