// The pure part of `devctl trace`: from the log lines that carry one request id (in any order, from
// any service), the hops of that request in the order they came in, how deep each sits in the chain
// of calls, and where the failure began. No file, no clock, no PM2: table tests feed it recorded
// lines.
import { logsCommand, restartCommand, trimStack } from '../diagnose/detectors/shared';
import { formatLocation, ownLocation } from '../diagnose/stack';
import { classifyRefusal, describeRefusal, type TraceRefusal } from './refusal';
import type { Trace, TraceError, TraceHop, TraceLine } from './types';

export interface BuildContext {
  /** Repository root: stack paths are made relative to it. */
  root: string;
  /** A service's repository-relative folder (frames there win the location), if known. */
  folderOf: (service: string) => string | undefined;
  /** ms since epoch: how long ago an unanswered request came in is measured from it. */
  now: number;
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const obj = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

interface WorkingHop {
  service: string;
  method: string | undefined;
  url: string | undefined;
  status: number | undefined;
  reason: string | undefined;
  code: string | undefined;
  durationMs: number | undefined;
  start: number;
  end: number | undefined;
  pid: number | undefined;
  error: TraceError | undefined;
  /** Answered after its caller had given up on it (the caller timed out). */
  tooSlow: boolean;
  /** Its `incoming request` line was read (not known only from its error or its answer). */
  requestLogged: boolean;
}

/** Fastify's lines: `incoming request` {req}, `request completed` / `request errored` {res, responseTime}. */
const isIncoming = (record: Record<string, unknown>) => record.msg === 'incoming request';

function completionOf(
  record: Record<string, unknown>,
): { status: number; durationMs: number; reason: string | undefined; code: string | undefined } | undefined {
  const status = num(obj(record.res)?.statusCode) ?? num(record.statusCode);
  if (status === undefined) return undefined;
  if (
    record.msg !== 'request completed' &&
    record.msg !== 'request errored' &&
    record.responseTime === undefined
  )
    return undefined;
  const reason = typeof record.reason === 'string' ? record.reason : undefined;
  // The kit logs the error code of a 4xx made from an error (FST_ERR_CTP_BODY_TOO_LARGE, ...).
  const code = status >= 400 && status < 500 ? str(record.code) : undefined;
  return { status, durationMs: num(record.responseTime) ?? 0, reason, code };
}

function errorOf(line: TraceLine, context: BuildContext): TraceError | undefined {
  const record = line.record;
  // Errors and fatals only: a warning (a 4xx the kit logs, a retry) is not the request failing.
  if ((num(record.level) ?? 0) < 50) return undefined;
  const err = obj(record.err);
  const stack = str(err?.stack);
  const type = str(err?.type) ?? null;
  const upstream = str(err?.upstream) ?? null;
  return {
    time: new Date(line.time).toISOString(),
    type,
    message: str(err?.message) ?? str(record.msg) ?? '',
    upstream,
    location: stack ? ownLocation(stack, context.root, context.folderOf(line.service)) : null,
    stack: stack ? trimStack(stack, context.root) : null,
  };
}

/** A relay: the kit's client (or the gateway's forwarder) passing on an upstream's failure. */
const isRelay = (error: TraceError | undefined) =>
  error !== undefined && (error.upstream !== null || error.type === 'UpstreamError');

const TIMED_OUT = /\btimed out\b|ETIMEDOUT|UND_ERR_HEADERS_TIMEOUT/;

function openHop(
  service: string,
  record: Record<string, unknown>,
  start: number,
  requestLogged = false,
): WorkingHop {
  const req = obj(record.req);
  return {
    service,
    method: str(req?.method) ?? str(record.method),
    url: str(req?.url) ?? str(record.url),
    status: undefined,
    reason: undefined,
    code: undefined,
    durationMs: undefined,
    start,
    end: undefined,
    pid: num(record.pid),
    error: undefined,
    tooSlow: false,
    requestLogged,
  };
}

function hopsOf(lines: TraceLine[], context: BuildContext): WorkingHop[] {
  const hops: WorkingHop[] = [];
  // Lines of one millisecond (a fast handler) in the order they must have been written.
  const rank = (line: TraceLine) => (completionOf(line.record) ? 2 : isIncoming(line.record) ? 0 : 1);
  const sorted = [...lines].sort((a, b) => a.time - b.time || rank(a) - rank(b));
  const samePid = (hop: WorkingHop, record: Record<string, unknown>) => {
    const pid = num(record.pid);
    return hop.pid === undefined || pid === undefined || hop.pid === pid;
  };
  for (const line of sorted) {
    const { record, service } = line;
    const completion = completionOf(record);
    if (completion) {
      // The open hop of this process whose start best matches the answer's time less its duration.
      const startedAt = line.time - completion.durationMs;
      let best: WorkingHop | undefined;
      for (const hop of hops) {
        if (hop.service !== service || hop.end !== undefined || !samePid(hop, record)) continue;
        if (hop.start > line.time) continue;
        if (!best || Math.abs(hop.start - startedAt) < Math.abs(best.start - startedAt)) best = hop;
      }
      // Its `incoming request` line is older than what was read: the answer says when it came in.
      const hop = best ?? openHop(service, record, Math.round(startedAt));
      if (!best) hops.push(hop);
      hop.status = completion.status;
      hop.reason = completion.reason;
      hop.code = completion.code;
      hop.durationMs = Math.round(completion.durationMs);
      hop.end = line.time;
      hop.pid ??= num(record.pid);
    } else if (isIncoming(record)) {
      hops.push(openHop(service, record, line.time, true));
      continue;
    }
    const error = errorOf(line, context);
    if (!error) continue;
    // The hop of this process that was handling the request when the error was logged.
    let owner: WorkingHop | undefined;
    for (const hop of hops) {
      if (hop.service !== service || !samePid(hop, record) || hop.start > line.time) continue;
      if (hop.end !== undefined && hop.end < line.time) continue;
      if (!owner || hop.start >= owner.start) owner = hop;
    }
    if (!owner) {
      owner = openHop(service, record, line.time);
      hops.push(owner);
    }
    // The service's own error says more than a relay of someone else's: keep the first of those.
    if (!owner.error || (isRelay(owner.error) && !isRelay(error))) owner.error = error;
  }
  return hops;
}

/** Orders hops by arrival (an enclosing call before what it calls) and measures their depth. */
function withDepth(hops: WorkingHop[]): { hop: WorkingHop; depth: number }[] {
  // A hop known only from its error has no interval to hold others: a point in time.
  const endOf = (hop: WorkingHop) => hop.end ?? (hop.requestLogged ? Number.POSITIVE_INFINITY : hop.start);
  const ordered = [...hops].sort((a, b) => a.start - b.start || endOf(b) - endOf(a));
  return ordered.map((hop, index) => ({
    hop,
    depth: ordered
      .slice(0, index)
      .filter(
        (outer) => outer.service !== hop.service && outer.start <= hop.start && endOf(outer) >= hop.start,
      ).length,
  }));
}

const isFailed = (hop: WorkingHop) =>
  hop.end === undefined || (hop.status ?? 0) >= 500 || hop.error !== undefined || hop.tooSlow;

/** A caller that timed out: what it called and that answered later (or never) was too slow. */
function markTooSlow(ordered: { hop: WorkingHop; depth: number }[]): void {
  for (const { hop: caller, depth } of ordered) {
    const timedOut = caller.status === 504 || (caller.error && TIMED_OUT.test(caller.error.message));
    if (!timedOut || caller.end === undefined) continue;
    for (const { hop, depth: inner } of ordered) {
      if (inner !== depth + 1 || hop.start < caller.start || hop.start > caller.end) continue;
      if (hop.end !== undefined && hop.end > caller.end) hop.tooSlow = true;
    }
  }
}

const request = (hop: { method: string | null; url: string | null }) =>
  `${hop.method ?? '?'} ${hop.url ?? '?'}`;

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

const headline = (error: TraceError) => `${error.type ?? 'Error'}: ${error.message}`;

function describeOrigin(hop: TraceHop, tooSlow: boolean): { summary: string; next: string } {
  const what = request(hop);
  const route = (hop.url ?? '?').split('?')[0];
  if (!hop.completed && (hop.pendingMs !== null || !hop.error)) {
    const ago = hop.pendingMs === null ? '' : ` (came in ${formatMs(hop.pendingMs)} ago)`;
    return {
      summary: `${hop.service} never answered ${what}${ago}`,
      next: `find why ${hop.service}'s handler of ${hop.method ?? ''} ${route} never answers (an await that never settles, a lock, a loop); pnpm devctl diagnose ${hop.service} names what changed since it last worked`,
    };
  }
  if (tooSlow) {
    return {
      summary: `${hop.service} took ${formatMs(hop.durationMs ?? 0)} to answer ${what}; its caller had given up`,
      next: `find what is slow in ${hop.service}'s handler of ${hop.method ?? ''} ${route}; pnpm devctl diagnose ${hop.service} names what changed since it last worked`,
    };
  }
  const answered = hop.completed
    ? `${hop.service} answered ${hop.status ?? '?'} to ${what}`
    : `${hop.service} failed on ${what}`;
  const error = hop.error;
  if (error?.location) {
    const where = formatLocation(error.location);
    return {
      summary: `${answered}: ${headline(error)} at ${where}`,
      next: `fix ${where} (${headline(error)}), then ${restartCommand(hop.service)}`,
    };
  }
  if (error) return { summary: `${answered}: ${headline(error)}`, next: logsCommand(hop.service) };
  return { summary: `${answered} without logging an error`, next: logsCommand(hop.service) };
}

/** The trace of one request from its log lines (`searched` is the reader's to fill in). */
export function buildTrace(
  requestId: string,
  lines: TraceLine[],
  context: BuildContext,
): Omit<Trace, 'searched'> {
  const ordered = withDepth(hopsOf(lines, context));
  markTooSlow(ordered);
  const hops: TraceHop[] = ordered.map(({ hop, depth }) => ({
    service: hop.service,
    method: hop.method ?? null,
    url: hop.url ?? null,
    status: hop.status ?? null,
    reason: hop.reason ?? null,
    code: hop.code ?? null,
    durationMs: hop.durationMs ?? null,
    start: new Date(hop.start).toISOString(),
    end: hop.end === undefined ? null : new Date(hop.end).toISOString(),
    completed: hop.end !== undefined,
    // Known only from an error (a LOG_LEVEL above info logs no request lines): whether it answered
    // is unknown, which is not the same as a hop that never answered.
    pendingMs: hop.end === undefined && hop.requestLogged ? Math.max(0, context.now - hop.start) : null,
    pid: hop.pid ?? null,
    depth,
    error: hop.error ?? null,
  }));
  // Where the failure began: the deepest failing hop (its callers relay it), a service's own error
  // before a relay, and among equals the one that came in last.
  let origin: number | null = null;
  ordered.forEach(({ hop, depth }, index) => {
    if (!isFailed(hop)) return;
    if (origin === null) {
      origin = index;
      return;
    }
    const best = ordered[origin] as { hop: WorkingHop; depth: number };
    const own = (h: WorkingHop) =>
      (h.error !== undefined && !isRelay(h.error)) || (h.end === undefined && h.requestLogged) || h.tooSlow;
    if (depth > best.depth || (depth === best.depth && (own(hop) || !own(best.hop)))) origin = index;
  });
  const first = hops[0];
  const entry = first
    ? `${request(first)} ${first.completed ? `-> ${first.status} in ${formatMs(first.durationMs ?? 0)}` : '-> no answer'}`
    : '';
  const services = [...new Set(hops.map((hop) => hop.service))];
  const path = `${hops.length} hop${hops.length === 1 ? '' : 's'} (${services.join(' -> ')})`;
  let summary = `${entry}, ${path}`;
  let refusal: TraceRefusal | null = null;
  let next = first?.completed
    ? `nothing failed: the request was answered ${first.status}`
    : 'nothing failed in what was logged';
  if (origin === null && first?.completed && (first.status ?? 0) >= 400) {
    // Refused, not failed: where the refusal came from (the deepest hop that answered a 4xx; its
    // callers passed it on) and why, when the kit logged it.
    const refusing = [...hops].reverse().find((hop) => (hop.status ?? 0) >= 400 && (hop.status ?? 0) < 500);
    if (refusing) {
      // By the route's rule or by Fastify before the handler: the code the kit logged tells.
      refusal = classifyRefusal(refusing, hops.indexOf(refusing));
      const described = describeRefusal(refusal, refusing);
      summary = `${summary}; ${described.summary}`;
      next = described.next;
    }
  }
  if (origin !== null) {
    const described = describeOrigin(
      hops[origin] as TraceHop,
      (ordered[origin] as { hop: WorkingHop }).hop.tooSlow,
    );
    summary = `${summary}; failed at ${described.summary}`;
    next = described.next;
  }
  return {
    requestId,
    start: first?.start ?? new Date(context.now).toISOString(),
    hops,
    failed: origin !== null,
    origin,
    refusal,
    summary,
    next,
  };
}
