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
function requestRecord(line: LogLine): Record<string, unknown> | undefined {
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
}

const FAILED = /^([\w.-]+) failed: (\d{3})\b/;
const UNREACHABLE = /^([\w.-]+) unreachable at /;
const TIMED_OUT = /^([\w.-]+) timed out after (\d+) ms at /;
const BROKE_OFF = /^([\w.-]+) broke off its answer at /;

/** The relay an error describes: the kit client's UpstreamError, by its fields or its message. */
export function relayOf(error: LoggedError): Relay | undefined {
  if (error.origin !== 'pino') return undefined;
  const err = error.record?.err as { upstream?: unknown; message?: unknown } | undefined;
  const message = typeof err?.message === 'string' ? err.message : error.message;
  const failed = FAILED.exec(message);
  if (failed) return { upstream: failed[1] as string, how: 'failed', status: Number(failed[2]) };
  const timedOut = TIMED_OUT.exec(message);
  if (timedOut) return { upstream: timedOut[1] as string, how: 'timeout', timeoutMs: Number(timedOut[2]) };
  const unreachable = UNREACHABLE.exec(message);
  if (unreachable) return { upstream: unreachable[1] as string, how: 'unreachable' };
  const brokeOff = BROKE_OFF.exec(message);
  if (brokeOff) return { upstream: brokeOff[1] as string, how: 'broke-off' };
  if (typeof err?.upstream === 'string') return { upstream: err.upstream, how: 'failed' };
  return undefined;
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
