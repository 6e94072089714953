// `<service entry> --print-config`: the kit's dry run. It resolves and validates the configuration
// exactly as a start would, prints one JSON line `{service, variables}` on stdout and exits 0, or
// exits EX_CONFIG with a config-error line on stderr. devctl runs it (it imports no service code)
// for `env`, `doctor` and the preflight of `start`.

/** The flag a kit service answers with its resolved configuration instead of starting. */
export const PRINT_CONFIG_FLAG = '--print-config';

/** One variable as --print-config prints it. */
export interface PrintedVariable {
  name: string;
  /** Masked (secrets `****`, URL passwords); null when unset. */
  value: string | null;
  /** Where the value came from: `process`, `service .env`, `root .env` or `default`. */
  source: string;
  /** `sha256:xxxxxxxx` of the value in effect (see shortHash): for secrets and shared settings. */
  hash?: string;
  /** The group of services this variable must agree with (the schema's `mustMatch`). */
  mustMatch?: string;
  /** The development secret file (repository-relative) used when the variable is unset; `hash` is its. */
  fallback?: string;
  /**
   * The schema's default, as text, when it declares one and it is not a secret: a value set in a
   * .env file equal to it is no change (devctl diagnose leaves it out of its leads).
   */
  default?: string;
}

/** What --print-config prints on success. */
export interface PrintedConfig {
  service?: string;
  variables?: PrintedVariable[];
}

/**
 * The last line of `text` that is a JSON object `accept` takes: a process that logs as it goes
 * gives its answer as its last JSON line.
 */
export function lastJsonLine<T>(text: string, accept: (value: T) => boolean): T | undefined {
  for (const line of text.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as T;
      if (accept(value)) return value;
    } catch {
      // Not JSON: a log line.
    }
  }
  return undefined;
}

/** The configuration a --print-config run printed on stdout, if it printed one. */
export function printedConfigOf(stdout: string): PrintedConfig | undefined {
  return lastJsonLine<PrintedConfig>(stdout, (value) => Array.isArray(value.variables));
}
