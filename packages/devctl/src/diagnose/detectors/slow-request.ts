// A handler too slow for its callers, or one that never answers. Fastify logs `incoming request` and
// `request completed` (with responseTime) for every request: a request that took longer than its
// caller waited (the kit client's timeout, reported by the caller as `<svc> timed out after N ms`
// for the same request id), or one that came in and never completed while the same process still
// runs, is a failure of the service that handled it. Its callers' timeouts and 5xx fold into it.
import type { ServiceSnapshot, Snapshot } from '../collect';
import { callerTimeouts, type Hop, hopsOf, relayOf, traceCommand } from '../requests';
import { formatLocation, routeLocation } from '../stack';
import type { Evidence } from '../types';
import { type Candidate, clock, isNew, iso, restartCommand, serviceNamed } from './shared';

/** The kit client's default timeout: callers that set none give up after this long. */
export const SLOW_MS = 5000;

const PROBES = new Set(['/health', '/ready']);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pathOf = (url: string | undefined) => (url ?? '?').split('?')[0] as string;

interface Slow {
  hop: Hop;
  /** How long it took, or has been running. */
  ms: number;
  hung: boolean;
  /** The timeout a caller gave up after, for this request. */
  callerTimeoutMs: number | undefined;
}

/**
 * The stack service this service waited on for the request: the upstream its own error for that
 * request names (`data-service timed out after 5000 ms`, `form-service failed: 504 ...`). A handler
 * slow only because its upstream was slow is a relay, and folds into the upstream's finding (trial:
 * data-service slept 8 s in GET /forms; form-service and the gateway each got a finding of their own
 * that asked to look at their handler).
 */
function waitedOn(snapshot: Snapshot, service: ServiceSnapshot, requestId: string): string | undefined {
  for (const error of service.errors) {
    if (error.requestId !== requestId) continue;
    const upstream = relayOf(error)?.upstream;
    if (
      upstream &&
      upstream !== service.entry.name &&
      snapshot.services.some((s) => s.entry.name === upstream)
    )
      return upstream;
  }
  return undefined;
}

/**
 * How close to a request's arrival another service's exit makes that service its likely caller that
 * went away: Fastify logs no "request completed" for an answer whose client closed the connection,
 * so the request of a caller that crashed (or was stopped) with it in flight looks hung (trial 13:
 * worker-service crashed on an unhandled rejection with a POST /send to email-service in flight on
 * its keep-alive socket, and diagnose said email-service never answered POST /send).
 */
const CALLER_EXIT_BEFORE_MS = 1000;
const CALLER_EXIT_AFTER_MS = 3000;

export function detectSlowRequests(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  const timeouts = callerTimeouts(snapshot.services);
  const exitsOf = (service: ServiceSnapshot) =>
    snapshot.services
      .filter((other) => other !== service)
      .flatMap((other) => other.events.filter((event) => event.kind === 'exited').map((event) => event.time));
  for (const service of snapshot.services) {
    const name = service.entry.name;
    if (service.state === 'not started') continue;
    // A request left open by a process that is gone did not hang: it died with it (other detectors).
    const pids = service.lines.flatMap((line) =>
      typeof line.record?.pid === 'number' ? [line.record.pid] : [],
    );
    const currentPid = service.process?.pid || pids[pids.length - 1];
    const otherExits = exitsOf(service);
    const slow: Slow[] = [];
    for (const hop of hopsOf(service)) {
      if (PROBES.has(pathOf(hop.url))) continue;
      const time = hop.start ?? hop.end;
      if (time === undefined || !isNew(service, { time, precise: true })) continue;
      // Slow because it waited on an upstream the user has restarted since: history (that start
      // brought a newer build or configuration; trial 4: the gateway's 504s stayed a warning after
      // the slow data-service and form-service were fixed and restarted).
      const upstream = waitedOn(snapshot, service, hop.requestId);
      const upstreamSince = upstream ? serviceNamed(snapshot, upstream)?.since : undefined;
      if (upstreamSince !== undefined && time < Math.floor(upstreamSince / 1000) * 1000) continue;
      const reported = timeouts.get(hop.requestId);
      const callerTimeoutMs = reported?.upstream === name ? reported.timeoutMs : undefined;
      const limit = callerTimeoutMs ?? SLOW_MS;
      if (hop.durationMs !== undefined) {
        if (hop.durationMs >= limit) slow.push({ hop, ms: hop.durationMs, hung: false, callerTimeoutMs });
      } else if (hop.start !== undefined && hop.end === undefined) {
        const running = snapshot.now - hop.start;
        const sameProcess = hop.pid === undefined || currentPid === undefined || hop.pid === currentPid;
        // No caller said it gave up, and a service exited as it came in: its caller went away.
        const start = hop.start;
        const callerGone =
          callerTimeoutMs === undefined &&
          otherExits.some(
            (exit) => exit >= start - CALLER_EXIT_BEFORE_MS && exit <= start + CALLER_EXIT_AFTER_MS,
          );
        if (sameProcess && service.state === 'online' && running >= limit && !callerGone)
          slow.push({ hop, ms: running, hung: true, callerTimeoutMs });
      }
    }
    const groups = new Map<string, Slow[]>();
    for (const item of slow) {
      const key = `${item.hop.method} ${pathOf(item.hop.url)}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    // Requests hung alike on several routes: what holds them is not one handler (trial 17: an
    // onRequest hook that never called done() for requests with a user id; GET /forms and POST
    // /forms each got a finding whose where: was its own handler's declaration, none of which was
    // the fault). One finding, with no where:, that says what the routes share.
    const hungRoutes = [...groups.entries()].filter(([, items]) => items.some((item) => item.hung));
    if (hungRoutes.length >= 2) {
      found.push(sharedHang(snapshot, service, hungRoutes));
      for (const [key] of hungRoutes) groups.delete(key);
    }
    for (const items of groups.values()) {
      // The request a caller gave up on speaks for the group: it is the one that failed upstream.
      const last =
        [...items].reverse().find((item) => item.callerTimeoutMs !== undefined) ??
        (items[items.length - 1] as Slow);
      const { hop } = last;
      const method = hop.method ?? '?';
      const path = pathOf(hop.url);
      const route = routeLocation(snapshot.ecosystem.root, service.entry.folder, method, path);
      const location = route ? { file: route.file, line: route.line, column: route.column } : null;
      const waited = items.find((item) => item.callerTimeoutMs !== undefined)?.callerTimeoutMs;
      const count =
        items.length > 1
          ? ` (${items.length} requests since ${clock(Math.min(...items.map((i) => i.hop.start ?? i.hop.end ?? 0)))})`
          : '';
      const completed = items.filter((item) => !item.hung);
      const open = items.filter((item) => item.hung);
      let summary: string;
      if (completed.length > 0) {
        const longest = Math.max(...completed.map((item) => item.ms));
        const callers = waited !== undefined ? `; its caller gives up after ${waited} ms` : '';
        summary = `${name} took ${seconds(longest)} to answer ${method} ${path}${callers}${count}`;
      } else if (waited !== undefined) {
        // Fastify logs no "request completed" for an answer to a caller that has gone: still running
        // and finished too late look the same in the log.
        summary = `${name} did not answer ${method} ${path} within the ${waited} ms its caller waits: no "request completed" since it came in at ${clock(hop.start ?? 0)}, ${seconds(last.ms)} ago (still running, or it answered after the caller had gone)${count}`;
      } else {
        summary = `${name} never answered ${method} ${path}: it came in at ${clock(hop.start ?? 0)} and has been running for ${seconds(last.ms)} with no "request completed"${count}`;
      }
      const severity = open.length > 0 || waited !== undefined ? 'error' : 'warning';
      const evidence: Evidence[] = [];
      if (hop.start !== undefined)
        evidence.push({
          time: iso(hop.start),
          service: name,
          stream: 'out',
          text: `incoming request ${method} ${path} (request ${hop.requestId})`,
        });
      evidence.push(
        hop.end !== undefined
          ? {
              time: iso(hop.end),
              service: name,
              stream: 'out',
              text: `request completed ${hop.status ?? '?'} after ${Math.round(last.ms)} ms (request ${hop.requestId})`,
            }
          : {
              time: iso(snapshot.now),
              service: name,
              stream: 'system',
              text: `no "request completed" for request ${hop.requestId}: still running after ${Math.round(last.ms)} ms`,
            },
      );
      const slowest = completed.sort((a, b) => b.ms - a.ms)[0];
      if (slowest && slowest !== last && slowest.hop.end !== undefined)
        evidence.push({
          time: iso(slowest.hop.end),
          service: name,
          stream: 'out',
          text: `request completed ${slowest.hop.status ?? '?'} after ${Math.round(slowest.ms)} ms (request ${slowest.hop.requestId})`,
        });
      const handler = route
        ? `the handler of ${method} ${route.route} at ${formatLocation(route)}`
        : `the handler of ${method} ${path}`;
      const upstream = waitedOn(snapshot, service, hop.requestId);
      found.push({
        kind: 'slow-request',
        service: name,
        severity,
        role: 'cause',
        ...(upstream ? { causedBy: upstream } : {}),
        summary,
        evidence,
        location,
        next: `find what ${handler} waits on (${traceCommand(hop.requestId)} shows the request across the services), fix it, then ${restartCommand(name)}`,
        requests: [...items.filter((item) => item !== last), last].map((item) => item.hop.requestId),
        times: items.map((item) => item.hop.start ?? item.hop.end ?? snapshot.now),
      });
    }
  }
  return found;
}

/**
 * One finding for requests that never completed on several routes of one service: each route's
 * first hung request as evidence, the callers' timeout when one was reported, and no where: (the
 * handlers are not the common part). Its next names the code every request passes through.
 */
function sharedHang(snapshot: Snapshot, service: ServiceSnapshot, routes: [string, Slow[]][]): Candidate {
  const name = service.entry.name;
  const hung = routes.flatMap(([, items]) => items.filter((item) => item.hung));
  const first = hung.reduce((a, b) => ((a.hop.start ?? 0) <= (b.hop.start ?? 0) ? a : b));
  const waited = hung.find((item) => item.callerTimeoutMs !== undefined)?.callerTimeoutMs;
  // The request a caller gave up on speaks for the finding (as for one route): its trace has the caller.
  const last =
    [...hung].reverse().find((item) => item.callerTimeoutMs !== undefined) ?? (hung[hung.length - 1] as Slow);
  const keys = routes.map(([key]) => key);
  const listed =
    keys.length <= 4 ? keys.join(', ') : `${keys.slice(0, 4).join(', ')} and ${keys.length - 4} more`;
  const callers = waited !== undefined ? `; its callers give up after ${waited} ms` : '';
  const evidence: Evidence[] = routes.flatMap(([, items]) => {
    const item = items.find((candidate) => candidate.hung) as Slow;
    return [
      {
        time: iso(item.hop.start ?? snapshot.now),
        service: name,
        stream: 'out' as const,
        text: `incoming request ${item.hop.method ?? '?'} ${pathOf(item.hop.url)} (request ${item.hop.requestId})`,
      },
    ];
  });
  evidence.push({
    time: iso(snapshot.now),
    service: name,
    stream: 'system',
    text: `no "request completed" for ${hung.length} request${hung.length === 1 ? '' : 's'} on ${keys.length} routes: the oldest still running after ${Math.round(first.ms)} ms`,
  });
  return {
    kind: 'slow-request',
    service: name,
    severity: 'error',
    role: 'cause',
    summary: `${name} never answered requests on ${keys.length} routes (${listed}): ${hung.length} came in since ${clock(first.hop.start ?? 0)} with no "request completed" while the process runs${callers}. Requests on different routes hang alike, so what holds them is not one handler but what they pass through: a hook (onRequest, preHandler) that never calls done() or never resolves, a plugin, a shared lock or client`,
    evidence,
    location: null,
    next: `find what every request of ${name} passes through before its handler (the hooks and plugins where its app is set up, in ${service.entry.folder}/src; ${traceCommand(last.hop.requestId)} shows the request across the services), fix it, then ${restartCommand(name)}`,
    requests: [...hung.filter((item) => item !== last), last].map((item) => item.hop.requestId),
    times: hung.map((item) => item.hop.start ?? snapshot.now),
  };
}
