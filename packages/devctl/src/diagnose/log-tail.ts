// The recent tail of a service's logs, read from the end (the cost does not grow with the file), and
// the errors in it: pino lines of level error/fatal, the kit's structured start-up lines
// (`{"devctl":"config-error"|"listen-error"}`), and Node's own multi-line error output.
import { existsSync } from 'node:fs';
import { type StructuredLineKind, structuredLineKind } from '@repo/stack-contract';
import { parseJsonObject, splitPm2Prefix } from '../logs/pm2-line';
import { readLinesBackward } from '../logs/reverse-lines';

export interface LogLine {
  /** ms since epoch: the pino time when present, else PM2's prefix (second precision). */
  time: number;
  stream: 'out' | 'err';
  /** The line without PM2's time prefix. */
  text: string;
  /** True when the line is a JSON object (a pino or devctl line), parsed or not. */
  structured: boolean;
  /**
   * The parsed object, for the structured lines diagnose reads: warnings and errors, the kit's
   * devctl lines, and "listening" lines. Other lines are never parsed (most of a log is info).
   */
  record?: Record<string, unknown>;
}

/**
 * At most this many lines are read from the end of each file: enough for several stack traces, and
 * in out.log for the request lines of the last minute or so (a hung request is an `incoming request`
 * with no `request completed`; the worker's polls alone write ~4 lines a second to data-service's).
 */
export const TAIL_LINES = { err: 400, out: 600 } as const;

/** Lines this much older than the baseline still matter (PM2's prefix has second precision). */
const BEFORE_BASELINE_MS = 2000;

const PINO_TIME = /"time":(?:"([^"]+)"|(\d{10,}))/;
/** Worth parsing: level 40-60, a devctl line, or the kit saying it listens. */
const WORTH_PARSING = /"level":[456]\d\b|"devctl":|listening (on|at)\b/;

function parseTail(raw: string, stream: 'out' | 'err', newerTime: number): LogLine {
  const prefix = splitPm2Prefix(raw);
  let time = prefix.time ?? Number.NaN;
  const text = prefix.body;
  const body = text.trim();
  const structured = body.startsWith('{') && body.endsWith('}');
  let record: Record<string, unknown> | undefined;
  if (structured) {
    const pino = PINO_TIME.exec(body);
    if (pino) {
      const precise = pino[1] !== undefined ? new Date(pino[1]).getTime() : Number(pino[2]);
      if (!Number.isNaN(precise)) time = precise;
    }
    if (WORTH_PARSING.test(body)) record = parseJsonObject(body);
  }
  return { time: Number.isNaN(time) ? newerTime : time, stream, text, structured, record };
}

/** Lines as written to a log (PM2 prefix or not), oldest first: what readTail gives for a file. */
export function parseLogLines(raws: string[], stream: 'out' | 'err', now = Date.now()): LogLine[] {
  const newestFirst: LogLine[] = [];
  let newerTime = now;
  for (const raw of [...raws].reverse()) {
    const line = parseTail(raw, stream, newerTime);
    newerTime = line.time;
    newestFirst.push(line);
  }
  return newestFirst.reverse();
}

/**
 * The last lines of one log, oldest first, read from the end: at most `limit`, and none older than
 * `since` (less a margin): what happened before the baseline is history. A line without a time takes
 * its newer neighbour's.
 */
export function readTail(
  file: string | undefined,
  stream: 'out' | 'err',
  limit: number,
  since?: number,
): LogLine[] {
  if (!file || !existsSync(file)) return [];
  const newestFirst: LogLine[] = [];
  const oldest = since === undefined ? Number.NEGATIVE_INFINITY : since - BEFORE_BASELINE_MS;
  let newerTime = Date.now();
  try {
    for (const raw of readLinesBackward(file)) {
      const line = parseTail(raw, stream, newerTime);
      if (line.time < oldest) break;
      newerTime = line.time;
      newestFirst.push(line);
      if (newestFirst.length >= limit) break;
    }
  } catch {
    // unreadable log (permissions, removed while reading): diagnose with what the rest shows
  }
  return newestFirst.reverse();
}

/** Both logs of a service merged in time order (stable: err after out on equal times). */
export function mergeTails(out: LogLine[], err: LogLine[]): LogLine[] {
  return [...out, ...err].sort(
    (a, b) => a.time - b.time || (a.stream === b.stream ? 0 : a.stream === 'out' ? -1 : 1),
  );
}

/** Lines PM2 or Node write that are not the service's problem. */
const INFORMATIONAL = [
  /^\[PM2\]/,
  /^PM2 (log|error):/,
  /TypeScript support unavailable|ts-node|Install typescript/i,
  /^\(node:\d+\) (\w+Warning|\[DEP\d+\])/,
  /^\(Use `node --trace-(warnings|deprecation)/,
  /^\s*$/,
];

export const isInformational = (text: string) => INFORMATIONAL.some((pattern) => pattern.test(text));

export type ErrorOrigin = 'pino' | 'node' | StructuredLineKind | 'text';

/** One error found in a log. */
export interface LoggedError {
  time: number;
  stream: 'out' | 'err';
  origin: ErrorOrigin;
  /** True when `time` has millisecond precision (a pino time), false for PM2's second prefix. */
  precise: boolean;
  /** pino level (40 warn, 50 error, 60 fatal); 60 for Node's own crash output. */
  level: number;
  /** The log message (pino `msg`), or the error's header line for Node output. */
  message: string;
  type?: string;
  errorMessage?: string;
  code?: string;
  stack?: string;
  method?: string;
  url?: string;
  /** The request id (Fastify's `reqId`, passed on by the kit's client as `x-request-id`). */
  requestId?: string;
  record?: Record<string, unknown>;
  /** The lines as written (without PM2's prefix), for evidence. */
  lines: string[];
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

function fromPino(line: LogLine, record: Record<string, unknown>): LoggedError {
  const err = (record.err && typeof record.err === 'object' ? record.err : undefined) as
    | Record<string, unknown>
    | undefined;
  const req = (record.req && typeof record.req === 'object' ? record.req : undefined) as
    | Record<string, unknown>
    | undefined;
  return {
    time: line.time,
    stream: line.stream,
    origin: 'pino',
    precise: record.time !== undefined,
    level: Number(record.level),
    message: str(record.msg) ?? str(err?.message) ?? '',
    type: str(err?.type),
    errorMessage: str(err?.message),
    code: str(err?.code),
    stack: str(err?.stack),
    method: str(record.method) ?? str(req?.method),
    url: str(record.url) ?? str(req?.url),
    requestId: str(record.reqId),
    record,
    lines: [line.text],
  };
}

// `TypeError: x`, `Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'x' imported from /a/b.js`.
const ERROR_HEADER = /^([A-Za-z_$][\w$.]*)(?: \[([A-Z0-9_]+)\])?: (.+)$/;
const FRAME_LINE = /^\s+at /;

/**
 * Node's own output for an error nobody caught (at module load, before the kit's handlers):
 * a source line, a caret, a blank, `Type: message`, the frames, maybe `{ code: ... }`, `Node.js vX`.
 * Consecutive plain err lines within two seconds form one block.
 */
function nodeErrorFromBlock(block: LogLine[]): LoggedError | undefined {
  const texts = block.map((line) => line.text);
  for (let index = 0; index < texts.length; index++) {
    const header = ERROR_HEADER.exec(texts[index] as string);
    if (!header) continue;
    const frames: string[] = [];
    for (let next = index + 1; next < texts.length && FRAME_LINE.test(texts[next] as string); next++) {
      frames.push(texts[next] as string);
    }
    const codeLine = texts.slice(index + 1).find((text) => /^\s+code: '([A-Z0-9_]+)'/.test(text));
    const code = header[2] ?? (codeLine ? /code: '([A-Z0-9_]+)'/.exec(codeLine)?.[1] : undefined);
    if (frames.length === 0 && !code) continue;
    const first = block[0] as LogLine;
    return {
      time: first.time,
      stream: first.stream,
      origin: 'node',
      precise: false,
      level: 60,
      message: texts[index] as string,
      type: header[1],
      errorMessage: header[3],
      code,
      stack: [texts[index], ...frames].join('\n').replace(/ \{$/, ''),
      lines: texts.filter((text) => text.trim() !== ''),
    };
  }
  return undefined;
}

/** Every error in the merged tail, oldest first. Warnings (level 40) are kept for dependency failures. */
export function findErrors(lines: LogLine[]): LoggedError[] {
  const errors: LoggedError[] = [];
  let block: LogLine[] = [];
  const flush = () => {
    if (block.length === 0) return;
    const found = nodeErrorFromBlock(block);
    if (found) errors.push(found);
    else {
      const meaningful = block.filter((line) => !isInformational(line.text));
      const last = meaningful[meaningful.length - 1];
      if (last && last.stream === 'err') {
        errors.push({
          time: last.time,
          stream: 'err',
          origin: 'text',
          precise: false,
          level: 50,
          message: last.text,
          lines: meaningful.slice(-5).map((line) => line.text),
        });
      }
    }
    block = [];
  };
  for (const line of lines) {
    const record = line.record;
    if (line.structured) {
      flush();
      if (!record) continue;
      const kind = structuredLineKind(record);
      if (kind) {
        errors.push({
          time: line.time,
          stream: line.stream,
          origin: kind,
          precise: false,
          level: 60,
          message: line.text,
          record,
          lines: [line.text],
        });
      } else if (typeof record.level === 'number' && record.level >= 40) {
        errors.push(fromPino(line, record));
      }
      continue;
    }
    if (line.stream !== 'err') continue;
    const previous = block[block.length - 1];
    if (previous && line.time - previous.time > 2000) flush();
    block.push(line);
  }
  flush();
  return errors;
}
