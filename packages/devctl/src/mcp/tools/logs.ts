// logs: the last lines of a service's logs, merged in time order, from devctl's log reader (the
// entries of `devctl logs --json`). Never follows: one bounded answer per call.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadEcosystem } from '../../ecosystem/index';
import {
  compileGrep,
  type LogEntryJson,
  type LogStream,
  logFiles,
  parseSince,
  readLastMerged,
  selectLogs,
  toJson,
} from '../../logs/index';
import { maskText } from '../mask';
import { jsonResult, MAX_RESULT_BYTES } from '../result';
import { namesOf } from './names';

export const MAX_LOG_LINES = 1000;
export const DEFAULT_LOG_LINES = 100;
/** A stack trace fits; a runaway line (a dumped payload) does not flood the answer. */
const MAX_LINE_CHARS = 4000;
/** Room left for the rest of the answer. */
const MAX_LINES_BYTES = MAX_RESULT_BYTES - 16 * 1024;

export interface LogsToolArgs {
  service?: string;
  lines?: number;
  stream?: 'out' | 'err' | 'all';
  since?: string;
  grep?: string;
}

/** Masked before the final cut, so a cut never leaves half a secret unmasked. */
const MASKED_CHARS = 64 * 1024;

function shorten(entry: LogEntryJson): LogEntryJson {
  const text = maskText(entry.text.slice(0, MASKED_CHARS));
  const length = Math.max(text.length, entry.text.length);
  return length <= MAX_LINE_CHARS
    ? { ...entry, text }
    : {
        ...entry,
        text: `${text.slice(0, MAX_LINE_CHARS)}… [${length - MAX_LINE_CHARS} more characters]`,
      };
}

/** The newest entries whose JSON fits in MAX_LINES_BYTES, oldest first. */
function newestWithinBudget(entries: LogEntryJson[]): LogEntryJson[] {
  let bytes = 0;
  let first = entries.length;
  while (first > 0) {
    const size = Buffer.byteLength(JSON.stringify(entries[first - 1]), 'utf8') + 1;
    if (bytes + size > MAX_LINES_BYTES) break;
    bytes += size;
    first--;
  }
  return entries.slice(first);
}

export async function logsTool(args: LogsToolArgs): Promise<CallToolResult> {
  const count = Math.min(args.lines ?? DEFAULT_LOG_LINES, MAX_LOG_LINES);
  const since = args.since === undefined ? undefined : parseSince(args.since);
  const grep = compileGrep(args.grep);
  const streams: LogStream[] =
    args.stream === 'out' ? ['out'] : args.stream === 'err' ? ['err'] : ['out', 'err'];

  // The same selection as `devctl logs`: tool apps (devctl-logrotate) included.
  const { services, sources, notes } = selectLogs(loadEcosystem(), namesOf(args.service), streams);
  const readable = sources.filter((source) => logFiles(source.file).length > 0);

  const read = readLastMerged(readable, count, { since, grep }).map((entry) => shorten(toJson(entry)));
  const lines = newestWithinBudget(read);
  const omitted = read.length - lines.length;
  return jsonResult({
    services: services.map((service) => service.name),
    streams,
    requested: count,
    returned: lines.length,
    truncated: omitted > 0,
    ...(omitted > 0
      ? {
          truncation: `the ${omitted} oldest of the ${read.length} lines read were left out to stay under ${MAX_LINES_BYTES} bytes; narrow with since or grep`,
        }
      : {}),
    ...(notes.length > 0 ? { notes } : {}),
    lines,
  });
}
