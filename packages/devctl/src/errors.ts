/** Exit codes of every devctl command: 0 success, 1 failure (with the reason), 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

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

export const usageError = (message: string, data?: Record<string, unknown>) => new CLIError(message, EXIT_USAGE, data);
