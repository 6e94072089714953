// A `process.exit(3)` somewhere in a service leaves PM2 with "exit code 3" and nothing about where.
// runService wraps process.exit so that a non-zero exit the kit did not explain itself writes one
// fatal line with the caller's stack (source-mapped under --enable-source-maps) to stderr, and
// `devctl diagnose` turns it into a finding with the file and line. Exit code 0 passes straight
// through (a clean shutdown costs one comparison), and the kit's own exits (config error, port in
// use, uncaught exception, shutdown timeout), which logged their reason already, add nothing.
// Not Node's --trace-exit: it prints a stack at every exit, 0 included.
import { isAbsolute, relative, sep } from 'node:path';
import type { Logger } from './logger';

export interface ExitTrace {
  /** Exits for a reason the kit has logged already: no second line. */
  exitExplained(code: number): never;
  /** Writes the line through the service's logger from now on (before, as a JSON line by hand). */
  useLogger(logger: Logger): void;
}

/** What the fatal line carries under `exit`: devctl reads `stack` for the location. */
export interface ExitRecord {
  code: number;
  /** `file:line:column` of the caller, relative to the repository root when inside it. */
  at: string | null;
  stack: string;
}

const FRAME = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/** The first frame's `file:line:column`, repository-relative when the file is inside `rootDir`. */
export function callerOf(stack: string, rootDir: string): string | null {
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    let file = (match[1] as string).replace(/^file:\/\//, '');
    if (isAbsolute(file)) {
      const inside = relative(rootDir, file);
      if (!inside.startsWith('..') && !isAbsolute(inside)) file = inside.split(sep).join('/');
    }
    return `${file}:${match[2]}:${match[3]}`;
  }
  return null;
}

let installed: ExitTrace | undefined;

export function installExitTrace(options: { service: string; rootDir: string }): ExitTrace {
  if (installed) return installed;
  const exit = process.exit.bind(process);
  let logger: Logger | undefined;
  let explained = false;

  const report = (record: ExitRecord) => {
    const msg = `process.exit(${record.code}) called${record.at ? ` at ${record.at}` : ''} without a logged reason`;
    if (logger) {
      logger.fatal({ exit: record }, msg);
      return;
    }
    const line = {
      level: 60,
      time: new Date().toISOString(),
      service: options.service,
      pid: process.pid,
      exit: record,
      msg,
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };

  function tracedExit(code?: number | string | null): never {
    const effective = Number(code ?? process.exitCode ?? 0);
    if (effective !== 0 && !explained) {
      explained = true; // one line, even if a handler of 'exit' calls process.exit again
      const trace: { stack?: string } = {};
      // Leaves this wrapper out: the first frame is the caller.
      Error.captureStackTrace(trace, tracedExit);
      const stack = `process.exit(${effective})${(trace.stack ?? '').replace(/^Error\n?/, '\n')}`;
      try {
        report({ code: effective, at: callerOf(stack, options.rootDir), stack });
      } catch {
        // A broken stderr must not keep the process from exiting with its code.
      }
    }
    return exit(code as number | undefined);
  }
  process.exit = tracedExit as typeof process.exit;

  installed = {
    exitExplained(code) {
      explained = true;
      return exit(code);
    },
    useLogger(next) {
      logger = next;
    },
  };
  return installed;
}
