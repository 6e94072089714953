import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: string;
  format?: 'json' | 'pretty';
  /** Every line to this stream instead of stdout/stderr (tests read what a service logs). */
  destination?: DestinationStream;
}

/** Paths never written to a log: credentials in headers and bodies. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'password',
  'passwordHash',
  'token',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.authorization',
];

/**
 * A pino logger with an ISO timestamp on every line. Lines below `error` go to stdout (PM2's
 * out.log), `error` and `fatal` only to stderr (error.log) with the full, source-mapped stack.
 * Writes are synchronous so the last line before a crash is never lost.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (options.destination) return pino(settings, options.destination);
  const pretty_ = options.format === 'pretty';
  const out = pretty_
    ? pretty({ destination: 1, sync: true, colorize: false, translateTime: 'SYS:standard' })
    : pino.destination({ fd: 1, sync: true });
  const err = pretty_
    ? pretty({ destination: 2, sync: true, colorize: false, translateTime: 'SYS:standard' })
    : pino.destination({ fd: 2, sync: true });
  return pino(
    settings,
    pino.multistream(
      [
        { level: 'trace', stream: out },
        { level: 'error', stream: err },
      ],
      { dedupe: true },
    ),
  );
}
