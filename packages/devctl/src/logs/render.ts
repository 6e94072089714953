import { c } from '../output/colors';
import type { LogEntry } from './entry';

export type RenderMode = 'text' | 'raw' | 'json';

export interface RenderOptions {
  mode: RenderMode;
  /** Prefix each line with its service (when several services are shown). */
  showService: boolean;
  /** Width the service names are padded to, so the columns line up. */
  serviceWidth?: number;
}

/** The documented shape of `devctl logs --json`: one object per line. */
export interface LogEntryJson {
  time: string;
  service: string;
  stream: 'out' | 'err';
  level?: string;
  text: string;
}

const SERVICE_COLORS = [c.cyan, c.magenta, c.blue, c.yellow, c.green];

function serviceColor(service: string): (text: string) => string {
  let hash = 0;
  for (const char of service) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return SERVICE_COLORS[hash % SERVICE_COLORS.length] ?? c.cyan;
}

const pad2 = (value: number) => String(value).padStart(2, '0');

/** Local time as PM2 writes it (`YYYY-MM-DDTHH:mm:ss`), so a line reads the same as in the file. */
export function formatLocalTime(time: Date): string {
  return `${time.getFullYear()}-${pad2(time.getMonth() + 1)}-${pad2(time.getDate())}T${pad2(time.getHours())}:${pad2(time.getMinutes())}:${pad2(time.getSeconds())}`;
}

function paintLevel(entry: LogEntry, text: string): string {
  if (!entry.level) return text;
  const space = text.indexOf(' ');
  const word = space === -1 ? text : text.slice(0, space);
  const rest = space === -1 ? '' : text.slice(space);
  const paint =
    entry.level === 'error' || entry.level === 'fatal'
      ? c.red
      : entry.level === 'warn'
        ? c.yellow
        : entry.level === 'info'
          ? c.green
          : c.gray;
  return paint(word) + rest;
}

export function toJson(entry: LogEntry): LogEntryJson {
  return {
    time: entry.time.toISOString(),
    service: entry.service,
    stream: entry.stream,
    ...(entry.level ? { level: entry.level } : {}),
    text: entry.text,
  };
}

/**
 * One entry as printed, without the final newline. In text mode the lines of a multi-line text
 * (a structured error's stack) follow under the first, indented to its text column.
 */
export function renderEntry(entry: LogEntry, options: RenderOptions): string {
  if (options.mode === 'raw') return entry.raw;
  if (options.mode === 'json') return JSON.stringify(toJson(entry));
  const service = options.showService ? `${entry.service.padEnd(options.serviceWidth ?? 0)} ` : '';
  const stream = entry.stream === 'err' ? 'err |' : 'out |';
  const prefixWidth = 20 + service.length + stream.length;
  const [first = '', ...more] = entry.text.split('\n');
  let line = `${c.dim(formatLocalTime(entry.time))} ${service ? serviceColor(entry.service)(service) : ''}${
    entry.stream === 'err' ? c.red(stream) : c.dim(stream)
  } ${paintLevel(entry, first)}`;
  for (const next of more) line += `\n${' '.repeat(prefixWidth - 1)}${c.dim('|')} ${next}`;
  return line;
}
