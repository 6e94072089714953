// One log line as devctl understands it. PM2 (with `time: true`) prefixes every line it writes
// with `YYYY-MM-DDTHH:mm:ss: ` in local time; the services write pino JSON lines; Node's own
// uncaught-error output is several plain lines, each with its own PM2 prefix.

import { parseJsonObject, splitPm2Prefix } from './pm2-line';

export type LogStream = 'out' | 'err';
export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogEntry {
  /** When the line was written: the pino time when present, else PM2's prefix, else inherited. */
  time: Date;
  service: string;
  stream: LogStream;
  /** Only for structured (pino) lines. */
  level?: LevelName;
  /** Rendered: `LEVEL msg` (plus extra fields and the error stack) for pino lines; else the line. */
  text: string;
  /** The line exactly as written in the file. */
  raw: string;
}

/** A parsed line whose time may be unknown (a line without PM2 prefix or structured time). */
export type ParsedLine = Omit<LogEntry, 'time'> & { time: Date | undefined };

const PINO_LEVELS: Record<number, LevelName> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Fields pino writes on every line; everything else is shown after the message. */
const PINO_BASE_FIELDS = new Set([
  'level',
  'time',
  'msg',
  'message',
  'pid',
  'hostname',
  'service',
  'err',
  'v',
]);

function parseDate(text: string): Date | undefined {
  const date = new Date(text.length === 19 ? text.replace(' ', 'T') : text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function levelName(level: unknown): LevelName | undefined {
  if (typeof level === 'number') return PINO_LEVELS[level];
  if (typeof level === 'string' && Object.values(PINO_LEVELS).includes(level as LevelName)) {
    return level as LevelName;
  }
  return undefined;
}

function renderError(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const { stack, type, message } = err as { stack?: unknown; type?: unknown; message?: unknown };
  if (typeof stack === 'string' && stack.length > 0) return stack;
  return [type, message].filter((part) => typeof part === 'string' && part.length > 0).join(': ');
}

function renderPino(record: Record<string, unknown>, level: LevelName): string {
  const message =
    typeof record.msg === 'string' ? record.msg : typeof record.message === 'string' ? record.message : '';
  const extra = Object.fromEntries(Object.entries(record).filter(([key]) => !PINO_BASE_FIELDS.has(key)));
  let text = `${level.toUpperCase()} ${message}`;
  if (Object.keys(extra).length > 0) text += ` ${JSON.stringify(extra)}`;
  if (record.err !== undefined) {
    const error = renderError(record.err);
    if (error.length > 0) text += `\n${error}`;
  }
  return text;
}

/**
 * Parses one line of a log file. `service` and `stream` come from the file the line was read from;
 * a pino `service` field wins over the file's service name only when the caller has none.
 */
export function parseLine(raw: string, service: string, stream: LogStream): ParsedLine {
  let body = raw;
  let time: Date | undefined;
  const prefix = splitPm2Prefix(raw);
  if (prefix.time !== undefined) {
    time = new Date(prefix.time);
    body = prefix.body;
  }
  let record = parseJsonObject(body);
  // PM2's `log_type: 'json'` wraps each chunk: {message, timestamp, type, app_name}.
  if (record && typeof record.message === 'string' && 'app_name' in record && 'timestamp' in record) {
    time = (typeof record.timestamp === 'string' && parseDate(record.timestamp)) || time;
    body = record.message.replace(/\r?\n$/, '');
    record = parseJsonObject(body);
  }
  const level = record ? levelName(record.level) : undefined;
  if (record && level) {
    const pinoTime =
      typeof record.time === 'string' || typeof record.time === 'number' ? new Date(record.time) : undefined;
    if (pinoTime && !Number.isNaN(pinoTime.getTime())) time = pinoTime;
    const recordService = typeof record.service === 'string' ? record.service : undefined;
    return {
      time,
      service: service || recordService || '',
      stream,
      level,
      text: renderPino(record, level),
      raw,
    };
  }
  return { time, service, stream, text: body, raw };
}
