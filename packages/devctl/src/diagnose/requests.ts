// The requests in the log tails, and how their failures relate across services. Every service logs
// Fastify's `incoming request` / `request completed` lines with `reqId`, and the kit's client passes
// that id on (`x-request-id`), so one id follows a request through every hop. When a call fails, the
// kit's client throws an UpstreamError whose message names the upstream (`data-service failed: 500
// ...`, `... unreachable at ...`, `... timed out after N ms at ...`): such an error is a relay, not a
// failure of the service that logged it.
import type { ServiceSnapshot } from './collect';
import type { LoggedError, LogLine } from './log-tail';

/** One service's part in one request, from its own log lines. */
export interface Hop {
  service: string;
  requestId: string;
  pid: number | undefined;
  method: string | undefined;
  url: string | undefined;
  /** When the service logged `incoming request` (ms). */
  start: number | undefined;
  /** When it logged `request completed` (ms). */
  end: number | undefined;
  status: number | undefined;
  /** Fastify's responseTime (ms). */
  durationMs: number | undefined;
}

const parsed = new WeakMap<LogLine, Record<string, unknown> | null>();

/** The JSON object of a request line (info lines are not parsed by the log reader: most of a log). */
export function requestRecord(line: LogLine): Record<string, unknown> | undefined {
  if (line.record) return line.record;
  if (!line.structured || !line.text.includes('"reqId"')) return undefined;
  let record = parsed.get(line);
  if (record === undefined) {
    try {
      const value: unknown = JSON.parse(line.text);
      record = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
    } catch {
      record = null;
    }
    parsed.set(line, record);
  }
  return record ?? undefined;
}

/**
 * Every request a service logged in its tail, in the order they came in. One request id can come
 * in several times (form-service asks data-service for the form, then stores the submission, with
 * the same id): each `incoming request` opens a hop, the next `request completed` of that id closes it.
 */
export function hopsOf(service: ServiceSnapshot): Hop[] {
  const hops: Hop[] = [];
  const open = new Map<string, Hop>();
  const name = service.entry.name;
  for (const line of service.lines) {
    const record = requestRecord(line);
    const id = record?.reqId;
    if (!record || typeof id !== 'string') continue;
    const pid = typeof record.pid === 'number' ? record.pid : undefined;
    const key = `${id}|${pid ?? ''}`;
    const req = record.req as { method?: unknown; url?: unknown } | undefined;
    const res = record.res as { statusCode?: unknown } | undefined;
    let hop = open.get(key);
    if (!hop || record.msg === 'incoming request') {
      hop = {
        service: name,
        requestId: id,
        pid,
        method: undefined,
        url: undefined,
        start: undefined,
        end: undefined,
        status: undefined,
        durationMs: undefined,
      };
      hops.push(hop);
      open.set(key, hop);
    }
    if (record.msg === 'incoming request') {
      hop.start = line.time;
      if (typeof req?.method === 'string') hop.method = req.method;
      if (typeof req?.url === 'string') hop.url = req.url;
    } else if (record.msg === 'request completed') {
      hop.end = line.time;
      if (typeof res?.statusCode === 'number') hop.status = res.statusCode;
      if (typeof record.responseTime === 'number') hop.durationMs = record.responseTime;
      open.delete(key);
    }
    if (hop.method === undefined && typeof record.method === 'string') hop.method = record.method;
    if (hop.url === undefined && typeof record.url === 'string') hop.url = record.url;
  }
  return hops;
}

/** A failure the service relayed: the call to `upstream` failed, the fault is there or deeper. */
export interface Relay {
  upstream: string;
  /** `failed`: it answered 5xx; `unreachable`, `timeout`, `broke-off`: no (whole) answer. */
  how: 'failed' | 'unreachable' | 'timeout' | 'broke-off';
  /** The upstream's status for `failed`. */
  status?: number;
  /** The caller's timeout for `timeout`. */
  timeoutMs?: number;
  /** The address the caller used, for `unreachable`, `timeout` and `broke-off`. */
  host?: string;
  port?: number;
  /** The connection error (`ECONNREFUSED`...), for `unreachable` and `broke-off`. */
  code?: string;
}

const HOST = String.raw`(\[[^\]]+\]|[\w.-]+)`;
// The kit client's messages (packages/service-kit/src/http-client.ts). A `failed` one goes on with
// the upstream's own message, which is the next hop when the upstream relayed too.
const HOPS: { pattern: RegExp; hop: (m: RegExpExecArray) => Relay }[] = [
  {
    pattern: /([\w.-]+) failed: (5\d\d)\b ?/y,
    hop: (m) => ({ upstream: m[1] as string, how: 'failed', status: Number(m[2]) }),
  },
  {
    pattern: new RegExp(String.raw`([\w.-]+) unreachable at ${HOST}:(\d+) \((\w+)\)`, 'y'),
    hop: (m) => ({ upstream: m[1] as string, how: 'unreachable', ...address(m), code: m[4] }),
  },
  {
    pattern: new RegExp(String.raw`([\w.-]+) timed out after (\d+) ms at ${HOST}:(\d+)`, 'y'),
    hop: (m) => ({
      upstream: m[1] as string,
      how: 'timeout',
      timeoutMs: Number(m[2]),
      host: stripBrackets(m[3] as string),
      port: Number(m[4]),
    }),
  },
  {
    pattern: new RegExp(String.raw`([\w.-]+) broke off its answer at ${HOST}:(\d+)(?: \((\w+)\))?`, 'y'),
    hop: (m) => ({ upstream: m[1] as string, how: 'broke-off', ...address(m), code: m[4] }),
  },
];

/** Where a hop may begin: a name at a word start, then one of the kit's phrases. */
const START =
  /(?<![\w.-])[\w.-]+ (?:failed: 5\d\d|unreachable at |timed out after |broke off its answer at )/g;

const stripBrackets = (host: string) => host.replace(/^\[|\]$/g, '');
const address = (m: RegExpExecArray) => ({ host: stripBrackets(m[2] as string), port: Number(m[3]) });

function hopAt(text: string, index: number): { relay: Relay; end: number } | undefined {
  for (const { pattern, hop } of HOPS) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match) return { relay: hop(match), end: pattern.lastIndex };
  }
  return undefined;
}

/**
 * The hops a relayed message describes, outermost first: `form-service failed: 502 data-service
 * unreachable at 127.0.0.1:3040 (ECONNREFUSED)` is [form-service failed 502, data-service
 * unreachable at 127.0.0.1:3040]. The first hop is the call the service that logged it made; every
 * later one was made by the upstream of the hop before (an address in hop N was used by hop N-1's
 * upstream, never by the service that logged the line). Empty when the text is no kit relay.
 */
export function relayChain(text: string): Relay[] {
  // Only where a kit message can start (one scan), not at every character: diagnose reads
  // hundreds of errors, and every service's relays are read again for each of its callers.
  START.lastIndex = 0;
  for (let match = START.exec(text); match; match = START.exec(text)) {
    const first = hopAt(text, match.index);
    if (!first) {
      START.lastIndex = match.index + 1;
      continue;
    }
    const chain = [first.relay];
    let next = first;
    while (next.relay.how === 'failed') {
      const deeper = hopAt(text, next.end);
      if (!deeper) break;
      chain.push(deeper.relay);
      next = deeper;
    }
    return chain;
  }
  return [];
}

/** The relay an error describes: the kit client's UpstreamError, by its message or its fields. */
export function relayOf(error: LoggedError): Relay | undefined {
  if (error.origin !== 'pino') return undefined;
  const err = error.record?.err as { upstream?: unknown; message?: unknown } | undefined;
  const message = typeof err?.message === 'string' ? err.message : error.message;
  const [first] = relayChain(message);
  // The message starts with it: a message that only quotes a relay further in is not one.
  if (first && message.startsWith(`${first.upstream} `)) return first;
  if (typeof err?.upstream === 'string') return { upstream: err.upstream, how: 'failed' };
  return undefined;
}

/** The stack services a relayed error names, outermost first (the upstream, and deeper ones). */
export function relayedServices(error: LoggedError): string[] {
  const err = error.record?.err as { message?: unknown } | undefined;
  const message = typeof err?.message === 'string' ? err.message : error.message;
  return relayChain(message).map((hop) => hop.upstream);
}

/** Every timeout a caller reported, by request id: which upstream it waited for, and how long. */
export function callerTimeouts(
  services: ServiceSnapshot[],
): Map<string, { upstream: string; timeoutMs: number }> {
  const found = new Map<string, { upstream: string; timeoutMs: number }>();
  for (const service of services) {
    for (const error of service.errors) {
      if (!error.requestId) continue;
      // The deepest timeout in a relayed message is the one the slow service's caller reported.
      const text = error.errorMessage ?? error.message;
      const all = [...text.matchAll(/([\w.-]+) timed out after (\d+) ms at /g)];
      const last = all[all.length - 1];
      if (!last) continue;
      const known = found.get(error.requestId);
      const timeoutMs = Number(last[2]);
      if (!known || timeoutMs < known.timeoutMs)
        found.set(error.requestId, { upstream: last[1] as string, timeoutMs });
    }
  }
  return found;
}

export const traceCommand = (requestId: string) => `pnpm devctl trace ${requestId}`;
