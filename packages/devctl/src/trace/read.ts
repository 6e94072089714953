// Reading the logs for `devctl trace`: the lines of one request id, or the most recent request that
// failed, from the end of each service's logs (and their rotated files) within a byte budget, so a
// 1 GiB log costs what its last megabytes cost. Only lines that contain the id are parsed.
import { relative } from 'node:path';
import { parseJsonObject, splitPm2Prefix } from '../logs/pm2-line';
import { logFiles } from '../logs/reader';
import { readLinesBackward } from '../logs/reverse-lines';
import { scanBackward } from './scan';
import type { SearchedLog, TraceLine } from './types';

/** One log of one service. */
export interface TraceSource {
  service: string;
  stream: 'out' | 'err';
  file: string;
}

/** How far back each log (current file and rotated ones together) is read, by default. */
export const DEFAULT_BYTES_PER_LOG = 8 * 1024 * 1024;

/**
 * Once a request's lines are found, older lines matter only this far before the oldest of them:
 * every hop of one request happens within its callers' timeouts.
 */
const REQUEST_WINDOW_MS = 10 * 60_000;

/** A request that came in this recently and has not answered may simply be under way. */
export const IN_FLIGHT_GRACE_MS = 1000;

interface RawLine {
  /** PM2's prefix time (second precision), or undefined. */
  prefixTime: number | undefined;
  body: string;
}

function split(raw: string): RawLine {
  const { time, body } = splitPm2Prefix(raw);
  return { prefixTime: time, body };
}

function lineTime(record: Record<string, unknown>, prefixTime: number | undefined): number | undefined {
  const time = record.time;
  if (typeof time === 'string' || typeof time === 'number') {
    const ms = new Date(time).getTime();
    if (!Number.isNaN(ms)) return ms;
  }
  return prefixTime;
}

/** A backward walk over one log within a byte budget, recording what it read for `searched`. */
class BackwardLog {
  readonly searched: SearchedLog;
  private readonly lines: Generator<{ raw: string; file: string }, void, undefined>;

  constructor(
    readonly source: TraceSource,
    root: string,
    private readonly budget: number,
  ) {
    const files = logFiles(source.file);
    this.searched = searchedLog(source, files, root);
    this.lines = (function* () {
      for (const file of files) {
        try {
          for (const raw of readLinesBackward(file)) yield { raw, file };
        } catch {
          // removed or rotated while reading: what was read is what there is
        }
      }
    })();
  }

  /** The next older line, or undefined when the budget is spent or the log is exhausted. */
  next(): RawLine | undefined {
    if (this.searched.bytes >= this.budget) return undefined;
    const item = this.lines.next();
    if (item.done) return undefined;
    this.searched.bytes += Buffer.byteLength(item.value.raw) + 1;
    const line = split(item.value.raw);
    if (line.prefixTime !== undefined) this.searched.oldest = new Date(line.prefixTime).toISOString();
    return line;
  }

  close(): void {
    this.lines.return(undefined);
  }
}

const requestIdOf = (record: Record<string, unknown>) =>
  typeof record.reqId === 'string'
    ? record.reqId
    : typeof record.reqId === 'number'
      ? String(record.reqId)
      : undefined;

export interface ReadResult {
  lines: TraceLine[];
  searched: SearchedLog[];
}

/** What a log's search records for `searched`, with the files named as the user sees them. */
function searchedLog(source: TraceSource, files: string[], root: string): SearchedLog {
  return {
    service: source.service,
    // A missing log is named anyway: where it was expected is what the user needs to know.
    files: (files.length > 0 ? files : [source.file]).map((file) =>
      relative(root, file).split('\\').join('/'),
    ),
    bytes: 0,
    oldest: null,
  };
}

/**
 * Every line of every source whose pino `reqId` is `requestId`, within the budget. Only the lines
 * holding the id are decoded (scan.ts); once some are found, a log is read no further back than
 * REQUEST_WINDOW_MS before the oldest of them.
 */
export function readRequestLines(
  sources: TraceSource[],
  requestId: string,
  root: string,
  budget = DEFAULT_BYTES_PER_LOG,
): ReadResult {
  const lines: TraceLine[] = [];
  const searched: SearchedLog[] = [];
  let oldest = Number.POSITIVE_INFINITY;
  // PM2's prefix has second precision: a second of slack.
  const floor = () => oldest - REQUEST_WINDOW_MS - 1000;
  for (const source of sources) {
    const files = logFiles(source.file);
    const log = searchedLog(source, files, root);
    searched.push(log);
    const found: TraceLine[] = [];
    scanning: for (const file of files) {
      try {
        for (const item of scanBackward(file, requestId, budget - log.bytes, (bytes) => {
          log.bytes += bytes;
        })) {
          if (item.kind === 'reached') {
            const reached = split(item.head).prefixTime;
            if (reached !== undefined) log.oldest = new Date(reached).toISOString();
            if (reached !== undefined && reached < floor()) break scanning;
            continue;
          }
          const line = split(item.text);
          const record = parseJsonObject(line.body);
          if (!record || requestIdOf(record) !== requestId) continue;
          const time = lineTime(record, line.prefixTime);
          if (time === undefined) continue;
          found.push({ service: source.service, stream: source.stream, time, record });
          oldest = Math.min(oldest, time);
        }
      } catch {
        // removed or rotated while reading: what was read is what there is
      }
      if (log.bytes >= budget) break;
    }
    // Oldest first, as written: lines of the same millisecond keep their order.
    lines.push(...found.reverse());
  }
  return { lines, searched };
}

export interface FailedRequest {
  requestId: string;
  service: string;
  /** When it failed: its 5xx answer, or when it came in for one that never answered. */
  time: number;
  how: 'status' | 'no-answer';
}

const COMPLETED = /"msg":"request (completed|errored)"/;
const INCOMING = /"msg":"incoming request"/;
// Fields read without parsing the line: most lines of a log are these two, and JSON.parse of each
// would cost more than the rest of the search.
const REQ_ID = /"reqId":(?:"([^"\\]+)"|(\d+))/;
const PID = /"pid":(\d+)/;
const STATUS = /"statusCode":(\d{3})/;
const TIME = /"time":(?:"([^"]+)"|(\d{10,}))/;

function timeOf(body: string, prefixTime: number | undefined): number | undefined {
  const match = TIME.exec(body);
  const ms = match ? (match[1] !== undefined ? Date.parse(match[1]) : Number(match[2])) : Number.NaN;
  return Number.isNaN(ms) ? prefixTime : ms;
}

/**
 * The most recent request that failed in any of the sources: answered 5xx, or came in and never
 * answered (at least IN_FLIGHT_GRACE_MS before `now`). Each log is read backward until its newest
 * failure or the budget.
 */
export function findLastFailure(
  sources: TraceSource[],
  root: string,
  now: number,
  budget = DEFAULT_BYTES_PER_LOG,
): { failure: FailedRequest | undefined; searched: SearchedLog[] } {
  const searched: SearchedLog[] = [];
  // Answers are logged by the service that answered: one set per service, from every stream.
  const answered = new Map<string, Set<string>>();
  const answeredBy = (service: string) => {
    const known = answered.get(service);
    if (known) return known;
    const set = new Set<string>();
    answered.set(service, set);
    return set;
  };
  let newest: FailedRequest | undefined;
  // Error logs first: a `request errored` answer there must be known before out.log's incoming line.
  const ordered = [...sources].sort((a, b) => (a.stream === b.stream ? 0 : a.stream === 'err' ? -1 : 1));
  for (const source of ordered) {
    const log = new BackwardLog(source, root, budget);
    searched.push(log.searched);
    const seen = answeredBy(source.service);
    try {
      for (let line = log.next(); line; line = log.next()) {
        // Older than the newest failure found so far (a second of slack for the prefix): done.
        if (newest && line.prefixTime !== undefined && line.prefixTime < newest.time - 1000) break;
        const completed = COMPLETED.exec(line.body);
        const incoming = !completed && INCOMING.test(line.body);
        if (!completed && !incoming) continue;
        const idMatch = REQ_ID.exec(line.body);
        const id = idMatch?.[1] ?? idMatch?.[2];
        if (!id) continue;
        const process = PID.exec(line.body)?.[1];
        const time = timeOf(line.body, line.prefixTime) ?? now;
        let failure: FailedRequest | undefined;
        if (completed) {
          seen.add(`${process}:${id}`);
          const status = Number(STATUS.exec(line.body)?.[1] ?? 0);
          if (status >= 500 || completed[1] === 'errored')
            failure = { requestId: id, service: source.service, time, how: 'status' };
        } else if (!seen.has(`${process}:${id}`) && now - time >= IN_FLIGHT_GRACE_MS) {
          failure = { requestId: id, service: source.service, time, how: 'no-answer' };
        }
        if (failure) {
          if (!newest || failure.time > newest.time) newest = failure;
          break;
        }
      }
    } finally {
      log.close();
    }
  }
  return { failure: newest, searched };
}

/** Merges what two passes read of the same logs: the furthest each went. */
export function mergeSearched(a: SearchedLog[], b: SearchedLog[]): SearchedLog[] {
  const merged = new Map<string, SearchedLog>();
  for (const log of [...a, ...b]) {
    const key = `${log.service}|${log.files[0] ?? ''}`;
    const known = merged.get(key);
    if (!known || log.bytes > known.bytes) merged.set(key, log);
  }
  return [...merged.values()];
}
