// The structured lines a service writes to stderr when it cannot start, one JSON object per line
// with a `devctl` key naming its kind. The kit writes them; devctl's preflight and diagnose read them
// (from the dry run's stderr and from error.log), so both sides build and parse them here.
import { lastJsonLine } from './print-config';

/** One variable a service refuses, as the config-error line names it. */
export interface ConfigErrorVariable {
  name: string;
  /** e.g. `is required but not set`, or `has an invalid value "x": ...` (values masked). */
  message: string;
  /** Repository-relative file where the variable should be set. */
  file: string;
}

/** Written once before exit EX_CONFIG: `{"devctl":"config-error","service":...,"variables":[...]}`. */
export interface ConfigErrorLine {
  devctl: 'config-error';
  service: string;
  variables: ConfigErrorVariable[];
}

/** Written once before exit 1 when `listen` failed: `{"devctl":"listen-error",...}`. */
export interface ListenErrorLine {
  devctl: 'listen-error';
  service: string;
  host: string;
  port: number;
  /** The system error code, e.g. `EADDRINUSE`, `EACCES` (`EUNKNOWN` when there was none). */
  code: string;
}

export type StructuredLine = ConfigErrorLine | ListenErrorLine;
export type StructuredLineKind = StructuredLine['devctl'];

/** The kinds of structured line, for a reader that must tell them from other JSON lines. */
export const STRUCTURED_LINE_KINDS: readonly StructuredLineKind[] = ['config-error', 'listen-error'];

/** The config-error line (without its newline). */
export function configErrorLine(service: string, variables: ConfigErrorVariable[]): string {
  const line: ConfigErrorLine = {
    devctl: 'config-error',
    service,
    variables: variables.map(({ name, message, file }) => ({ name, message, file })),
  };
  return JSON.stringify(line);
}

/** The listen-error line (without its newline). */
export function listenErrorLine(fields: Omit<ListenErrorLine, 'devctl'>): string {
  const { service, host, port, code } = fields;
  const line: ListenErrorLine = { devctl: 'listen-error', service, host, port, code };
  return JSON.stringify(line);
}

/** The kind of a parsed JSON record when it is one of the stack's structured lines. */
export function structuredLineKind(record: unknown): StructuredLineKind | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const kind = (record as { devctl?: unknown }).devctl;
  return STRUCTURED_LINE_KINDS.find((known) => known === kind);
}

/**
 * The last config-error line in a process's stderr (other lines, a log or a stack, are passed
 * over), or undefined when it wrote none.
 */
export function lastConfigErrorLine(stderr: string): Partial<ConfigErrorLine> | undefined {
  return lastJsonLine<Partial<ConfigErrorLine>>(
    stderr,
    (value) => structuredLineKind(value) === 'config-error',
  );
}
