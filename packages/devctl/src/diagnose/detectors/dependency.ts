// A dependency unreachable: another service of the stack, the database at DATABASE_URL, the SMTP
// server. Evidence comes from the kit client's messages (`data-service unreachable at
// 127.0.0.1:3004 (ECONNREFUSED)`, `... timed out after 5000 ms at ...`), connection errors with an
// address (`connect ECONNREFUSED 127.0.0.1:5432`), failing /ready checks, and a live TCP check.
// A call to a stack service that answered 5xx (`data-service failed: 500 ...`, the kit client's
// UpstreamError) is observed here too. Every failure of a call to a stack service names that
// service as its cause (`causedBy`) with the request ids: the root-cause pass follows it to the
// service that failed on its own (an exception, a SQL error, a slow handler, a stopped process),
// however deep, and folds it into that finding. Only when nothing there explains it does it stay a
// finding of the caller, and then it never asks to edit the caller's relay.
import { serviceUrlVariable } from '@repo/stack-contract';
import type { ServiceSnapshot, Snapshot } from '../collect';
import { type Dependency, describeDependency, isLocalHost } from '../dependencies';
import type { LoggedError } from '../log-tail';
import type { Pm2Event } from '../pm2-log';
import { type Relay, relayChain, relayOf, traceCommand } from '../requests';
import { askedFor, askedWindowAt, type DownWindow, downWindows, second, windowAt } from '../restart-windows';
import type { Evidence } from '../types';
import { snapshotUrlMismatches, snapshotUrlPathMismatches } from './config-consistency';
import {
  type Candidate,
  clock,
  errorEvidence,
  isDown,
  isNew,
  iso,
  newErrors,
  pm2Evidence,
  restartCommand,
  serviceNamed,
  systemEvidence,
} from './shared';

export interface DependencyFailure {
  /** The stack service named in the message, if any. */
  name: string | undefined;
  host: string | undefined;
  port: number | undefined;
  /** ECONNREFUSED, ETIMEDOUT, HTTP_503... */
  reason: string;
  /** For a relayed message: the stack services it names, outermost first (the upstream, then deeper). */
  via?: string[];
  /** For a relayed message: its deepest hop, the call that failed first (its reason as `reason` is). */
  deepest?: { name: string; reason: string };
}

const hopReason = (hop: Relay) =>
  hop.how === 'failed' ? `HTTP_${hop.status}` : hop.how === 'timeout' ? 'ETIMEDOUT' : (hop.code ?? hop.how);

const deepestOf = (chain: Relay[]) => {
  const last = chain[chain.length - 1];
  return last ? { name: last.upstream, reason: hopReason(last) } : undefined;
};

const HOST = String.raw`(\[[^\]]+\]|[\w.-]+)`;
const CONNECT = new RegExp(
  String.raw`\b(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|ECONNRESET|EAI_AGAIN)\b:? ?${HOST}?:?(\d+)?`,
);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ECONNRESET',
  'EAI_AGAIN',
  'ESOCKET',
  'ECONNECTION',
]);

const stripBrackets = (host: string) => host.replace(/^\[|\]$/g, '');

/**
 * What a message says about the call the service that logged it made: the first hop of a relayed
 * message (in `form-service failed: 502 data-service unreachable at 127.0.0.1:3040` that is
 * form-service, which answered 502: the address is form-service's, not the logger's), or a bare
 * connection error. `via` names every stack service of a relayed message, outermost first.
 */
export function parseDependencyFailure(text: string, code?: string): DependencyFailure | undefined {
  const chain = relayChain(text);
  const first = chain[0];
  if (first) {
    const via = chain.map((hop) => hop.upstream);
    const deepest = deepestOf(chain);
    if (first.how === 'failed')
      return {
        name: first.upstream,
        host: undefined,
        port: undefined,
        reason: hopReason(first),
        via,
        deepest,
      };
    return {
      name: first.upstream,
      host: first.host,
      port: first.port,
      reason: hopReason(first),
      via,
      deepest,
    };
  }
  const connect = CONNECT.exec(text);
  if (connect) {
    return {
      name: undefined,
      host: connect[2] ? stripBrackets(connect[2]) : undefined,
      port: connect[3] ? Number(connect[3]) : undefined,
      reason: connect[1] as string,
    };
  }
  if (code && NETWORK_CODES.has(code))
    return { name: undefined, host: undefined, port: undefined, reason: code };
  return undefined;
}

/** The dependency failure an error describes, if it is one. */
export function failureOfError(error: LoggedError): DependencyFailure | undefined {
  if (error.origin === 'config-error' || error.origin === 'listen-error') return undefined;
  const text = [error.message, error.errorMessage ?? ''].join(' | ');
  const failure = parseDependencyFailure(text, error.code);
  if (failure && failure.port === undefined && error.record) {
    // pg / nodemailer errors carry the address in fields
    const err = error.record.err as Record<string, unknown> | undefined;
    if (err && typeof err.port === 'number') {
      failure.port = err.port;
      failure.host = typeof err.address === 'string' ? err.address : failure.host;
    }
  }
  return failure;
}

interface Observation {
  failure: DependencyFailure;
  time: number;
  /** False when `time` is PM2's prefix (second precision). */
  precise: boolean;
  evidence: Evidence;
  requestId?: string;
}

/** A call that got a 5xx answer: the upstream is up, and failed (or relayed a failure) on this request. */
function answeredWithFailure(error: LoggedError): DependencyFailure | undefined {
  const relay = relayOf(error);
  if (relay?.how !== 'failed') return undefined;
  return { name: relay.upstream, host: undefined, port: undefined, reason: `HTTP_${relay.status ?? 500}` };
}

/** Matches a failure to one of the service's dependencies (by name, then by address). */
function targetOf(
  snapshot: Snapshot,
  service: ServiceSnapshot,
  failure: DependencyFailure,
): Dependency | undefined {
  if (failure.name) {
    const stack = serviceNamed(snapshot, failure.name);
    if (stack) {
      const configured = service.dependencies.find((d) => d.kind === 'service' && d.name === failure.name);
      return {
        name: failure.name,
        kind: 'service',
        host: failure.host ?? configured?.host ?? '127.0.0.1',
        port: failure.port ?? configured?.port ?? stack.entry.port ?? 0,
        variable: configured?.variable,
        file: configured?.file,
      };
    }
  }
  const byAddress = service.dependencies.find(
    (d) =>
      d.port === failure.port &&
      (failure.host === undefined ||
        d.host === failure.host ||
        (isLocalHost(d.host) && isLocalHost(failure.host))),
  );
  if (byAddress) return byAddress;
  if (failure.port !== undefined && (failure.host === undefined || isLocalHost(failure.host))) {
    const stack = snapshot.services.find((s) => s.entry.port === failure.port && s !== service);
    if (stack)
      return {
        name: stack.entry.name,
        kind: 'service',
        host: failure.host ?? '127.0.0.1',
        port: failure.port,
        variable: undefined,
        file: undefined,
      };
  }
  if (failure.host !== undefined && failure.port !== undefined) {
    return {
      name: `${failure.host}:${failure.port}`,
      kind: 'service',
      host: failure.host,
      port: failure.port,
      variable: undefined,
      file: undefined,
    };
  }
  return undefined;
}

function observations(snapshot: Snapshot, service: ServiceSnapshot): Observation[] {
  const name = service.entry.name;
  const found: Observation[] = [];
  for (const error of newErrors(service)) {
    const failure = failureOfError(error) ?? answeredWithFailure(error);
    if (failure)
      found.push({
        failure,
        time: error.time,
        precise: error.precise,
        evidence: errorEvidence(snapshot, name, error),
        requestId: error.requestId,
      });
  }
  const checks = (
    service.ready?.body as { checks?: Record<string, { ok?: boolean; error?: string }> } | undefined
  )?.checks;
  for (const [check, result] of Object.entries(checks ?? {})) {
    if (result?.ok !== false) continue;
    const reason = String(result.error ?? 'failed');
    const failure =
      parseDependencyFailure(reason) ??
      (serviceNamed(snapshot, check) ? { name: check, host: undefined, port: undefined, reason } : undefined);
    if (!failure) continue;
    if (!failure.name && serviceNamed(snapshot, check)) failure.name = check;
    found.push({
      failure,
      time: snapshot.now,
      precise: true,
      evidence: systemEvidence(
        snapshot,
        name,
        `GET /ready -> ${service.ready?.status}: ${check}: ${reason}`,
        'probe',
      ),
    });
  }
  return found;
}

/** How close in time a relay and its caller's own error are, without a request id in common. */
const SAME_FAILURE_MS = 2000;

/**
 * The calls `caller` made that only its callers' relays tell of: in `form-service failed: 502
 * data-service unreachable at 127.0.0.1:3040 (ECONNREFUSED)` logged by api-gateway, form-service
 * called data-service at 127.0.0.1:3040. Read only where the caller logged no error of its own
 * for that request (or, without a request id, about that time): its own line says it better.
 * Relays from before the caller's last start are history, as its own errors would be.
 */
function relayedObservations(snapshot: Snapshot, caller: ServiceSnapshot): Observation[] {
  const name = caller.entry.name;
  const own = newErrors(caller);
  const found: Observation[] = [];
  for (const relaying of snapshot.services) {
    if (relaying === caller) continue;
    for (const error of newErrors(relaying)) {
      const chain = relayChain([error.message, error.errorMessage ?? ''].join(' | '));
      const index = chain.findIndex(
        (hop, i) =>
          i > 0 &&
          hop.port !== undefined &&
          chain[i - 1]?.how === 'failed' &&
          chain[i - 1]?.upstream === name,
      );
      const hop = chain[index];
      if (!hop || !isNew(caller, { time: error.time, precise: error.precise })) continue;
      const logged = error.requestId
        ? own.some((e) => e.requestId === error.requestId)
        : own.some((e) => Math.abs(e.time - error.time) <= SAME_FAILURE_MS);
      if (logged) continue;
      found.push({
        failure: {
          name: hop.upstream,
          host: hop.host,
          port: hop.port,
          reason: hopReason(hop),
          via: chain.slice(index).map((h) => h.upstream),
          deepest: deepestOf(chain),
        },
        time: error.time,
        precise: error.precise,
        evidence: errorEvidence(snapshot, relaying.entry.name, error),
        requestId: error.requestId,
      });
    }
  }
  return found.sort((a, b) => a.time - b.time);
}

/** `variable in file`, or the ecosystem entry when no variable sets it. */
const whereSet = (dependency: Dependency, service: ServiceSnapshot) =>
  dependency.variable
    ? `${dependency.variable} in ${dependency.file ?? `${service.entry.folder}/.env`}`
    : 'ecosystem.config.js';

function externalNext(dependency: Dependency, service: ServiceSnapshot): string {
  const name = service.entry.name;
  const where = `${dependency.host}:${dependency.port}`;
  if (dependency.kind === 'database') {
    return `start PostgreSQL at ${where} (or remove DATABASE_URL from ${dependency.file ?? `${service.entry.folder}/.env`} to use the embedded database), then ${restartCommand(name)}`;
  }
  if (dependency.kind === 'smtp') {
    return `start the SMTP server at ${where} (or set EMAIL_TRANSPORT=outbox in ${service.entry.folder}/.env), then ${restartCommand(name)}`;
  }
  return `make ${where} reachable (set in ${whereSet(dependency, service)}), then ${restartCommand(name)}`;
}

export function detectDependencies(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  const staticUrlMismatches = snapshotUrlMismatches(snapshot);
  const urlPathMismatches = snapshotUrlPathMismatches(snapshot);
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const groups = new Map<string, { dependency: Dependency; seen: Observation[] }>();
    const all = [...observations(snapshot, service), ...relayedObservations(snapshot, service)].sort(
      (a, b) => a.time - b.time,
    );
    for (const observation of all) {
      const dependency = targetOf(snapshot, service, observation.failure);
      if (!dependency) continue;
      const key = dependency.kind === 'service' ? dependency.name : `${dependency.host}:${dependency.port}`;
      const group = groups.get(key) ?? { dependency, seen: [] };
      group.seen.push(observation);
      groups.set(key, group);
    }
    // Databases and SMTP servers are checked even before the service tried them.
    for (const dependency of service.dependencies) {
      if (dependency.kind === 'service' || service.state === 'not started') continue;
      const key = `${dependency.host}:${dependency.port}`;
      const reason = snapshot.external.get(key);
      if (reason && !groups.has(key)) groups.set(key, { dependency, seen: [] });
    }

    for (const { dependency, seen } of groups.values()) {
      const last = seen[seen.length - 1];
      const reasons = [...new Set(seen.map((o) => o.failure.reason))].join(', ');
      const evidence = seen.slice(-3).map((o) => o.evidence);
      const requests = [...new Set(seen.flatMap((o) => o.requestId ?? []))];
      const times = seen.map((o) => o.time);
      const target = dependency.kind === 'service' ? serviceNamed(snapshot, dependency.name) : undefined;
      if (target) {
        if (isDown(target)) {
          // The dependency's own finding is the root cause; this one moves there.
          found.push({
            kind: 'dependency-unreachable',
            service: name,
            severity: 'error',
            role: 'state',
            causedBy: target.entry.name,
            summary: `${name} cannot reach ${describeDependency(dependency)} (${reasons})`,
            evidence,
            requests,
            times,
            location: null,
            next: startCommandFor(target.entry.name),
          });
          continue;
        }
        const expectedPort = target.entry.port;
        const gotAnswers = seen.every((o) => o.failure.reason.startsWith('HTTP_'));
        if (expectedPort !== undefined && dependency.port !== expectedPort && !gotAnswers) {
          // config-consistency.ts names it from the configuration, with both files and lines.
          if (
            staticUrlMismatches.some((m) => m.url.service === name && m.target.service === target.entry.name)
          )
            continue;
          found.push({
            kind: 'dependency-unreachable',
            service: name,
            severity: 'error',
            role: 'cause',
            summary: `${name} calls ${target.entry.name} at ${dependency.host}:${dependency.port} (${reasons}), but ${target.entry.name} listens on port ${expectedPort}`,
            evidence,
            location: null,
            next: `set ${dependency.variable ?? serviceUrlVariable(target.entry.name)}=http://127.0.0.1:${expectedPort} in ${dependency.file ?? `${service.entry.folder}/.env`}, then ${restartCommand(name)}`,
          });
          continue;
        }
        // A URL whose path the target does not serve: config-consistency.ts names it, with its file.
        if (urlPathMismatches.some((m) => m.url.service === name && m.target === target.entry.name)) continue;
        // The target is healthy now: failures from before its last start, or from before the last
        // start of a service deeper in the relayed message, are history (that start brought a newer
        // build or configuration, and the service now answers).
        // Failures to reach a service while it was (re)starting are that restart, not a fault.
        const recent = seen.filter(
          (o) => !isHistory(snapshot, target.entry.name, o) && !metRestart(snapshot, o.failure, o),
        );
        if (recent.length === 0 || !last) continue;
        const recentLast = recent[recent.length - 1] as Observation;
        const answered = recent.every((o) => o.failure.reason.startsWith('HTTP_'));
        const recentReasons = [...new Set(recent.map((o) => o.failure.reason))].join(', ');
        const recentRequests = [...new Set(recent.flatMap((o) => o.requestId ?? []))];
        const lastRequest = recentRequests[recentRequests.length - 1];
        // Failures while PM2 restarted the target after an exit no one asked for: that exit is the
        // cause, and it may have logged nothing (a SIGKILL from the OOM killer).
        const exits = answered ? [] : crashesMet(target, recent);
        const exitText = exits.length > 0 ? ` while ${describeExits(target.entry.name, exits)}` : '';
        // Kept only when nothing in the target explains it; even then the relay is not the fix.
        found.push({
          kind: answered ? 'request-error' : 'dependency-unreachable',
          service: name,
          severity: 'warning',
          role: 'cause',
          causedBy: target.entry.name,
          summary: answered
            ? `${name} got ${recent.length} failed answer(s) from ${target.entry.name}, last at ${clock(recentLast.time)} (${recentReasons}); ${target.entry.name} logged no cause for them`
            : `${name} failed to reach ${target.entry.name} ${recent.length} time(s), last at ${clock(recentLast.time)} (${recentReasons})${exitText}; ${target.entry.name} answers /health now`,
          evidence: [
            ...exits.slice(-1).map((event) => pm2Evidence(target.entry.name, event)),
            ...recent.slice(-3).map((o) => o.evidence),
          ],
          location: null,
          next: lastRequest
            ? `${traceCommand(lastRequest)} (where the request failed), then pnpm devctl logs ${target.entry.name} --since 10m`
            : exits.length > 0
              ? `pnpm devctl logs ${target.entry.name} --since 10m (why it exited; a kill with nothing logged is from outside, e.g. the OOM killer: dmesg), then pnpm devctl diagnose ${name}`
              : `pnpm devctl logs ${target.entry.name} --since 10m (slow or restarting?), then pnpm devctl diagnose ${name}`,
          requests: recentRequests,
          times: recent.map((o) => o.time),
        });
        continue;
      }
      // A database, an SMTP server or another address outside the stack.
      const key = `${dependency.host}:${dependency.port}`;
      const nowReason = snapshot.external.get(key);
      if (nowReason === null) {
        if (!last || !seen.some((o) => isNew(service, { time: o.time, precise: false }))) continue;
        found.push({
          kind: 'dependency-unreachable',
          service: name,
          severity: 'warning',
          role: 'cause',
          summary: `${name} could not reach ${describeDependency(dependency)} at ${clock(last.time)} (${reasons}); it accepts connections now`,
          evidence,
          location: null,
          next: `if it keeps failing: ${restartCommand(name)}`,
        });
        continue;
      }
      found.push({
        kind: 'dependency-unreachable',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: `${name} cannot reach ${describeDependency(dependency)}: ${nowReason ?? reasons}${dependency.file ? ` (set in ${dependency.file})` : ''}`,
        evidence: [
          ...evidence,
          {
            time: iso(snapshot.now),
            service: name,
            stream: 'system',
            text: `TCP connect ${key}: ${nowReason ?? 'not checked'}`,
          },
        ],
        location: null,
        next: externalNext(dependency, service),
      });
    }
  }
  return found;
}

/**
 * A failure to reach a service that answers now is history when it happened before the last start
 * of that service asked for, or of a stack service deeper in its relayed message that is up now:
 * that start brought a newer build or configuration. (A failure while the service was booting is
 * a restart met, not history: metRestart.)
 */
function isHistory(snapshot: Snapshot, upstream: string, observation: Observation): boolean {
  return [upstream, ...(observation.failure.via ?? [])].some((name) => {
    const service = serviceNamed(snapshot, name);
    if (!service || service.since === undefined || isDown(service)) return false;
    return observation.time < second(service.since);
  });
}

const LISTENING = /\blistening (on|at)\b/i;

const windowsCache = new WeakMap<ServiceSnapshot, DownWindow[]>();

/** When the service was down for a (re)start, per PM2's log, devctl's record and its own log. */
export function restartWindows(service: ServiceSnapshot): DownWindow[] {
  let windows = windowsCache.get(service);
  if (!windows) {
    const listening = service.lines
      .filter((line) => LISTENING.test(String(line.record?.msg ?? '')))
      .map((line) => line.time);
    const started = service.process?.startedAt;
    windows = downWindows(
      service.events,
      service.launch,
      listening,
      started === undefined ? undefined : { startedAt: started, createdAt: service.process?.createdAt },
    );
    windowsCache.set(service, windows);
  }
  return windows;
}

/**
 * What a (re)starting service does to its callers: refuses connections (nothing listens), breaks
 * off the answers in flight, or answers 503 while it closes (the kit's return503OnClosing). A
 * timeout or a name that does not resolve is no part of a restart.
 */
const RESTART_REASONS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'unreachable',
  'broke-off',
  'HTTP_503',
]);

/**
 * The restart of a stack service that a failure met: the call that failed first (the deepest hop of
 * a relayed message) got no answer, or a 503, from a service that is up now, at a moment that
 * service was down for a start, stop or restart someone asked for. Such a failure is not a current
 * finding: the restart was asked for. A failure during PM2's restart after a crash stays one: the
 * crash may have logged nothing of its own (process.exit, the OOM killer's SIGKILL), and the
 * caller's failures are then its only evidence (root-cause.ts folds them into a crash finding).
 */
export function metRestart(
  snapshot: Snapshot,
  failure: DependencyFailure,
  at: { time: number; precise: boolean },
): { service: string; window: DownWindow } | undefined {
  const first =
    failure.deepest ?? (failure.name ? { name: failure.name, reason: failure.reason } : undefined);
  if (!first || !RESTART_REASONS.has(first.reason)) return undefined;
  const service = serviceNamed(snapshot, first.name);
  if (!service || isDown(service)) return undefined;
  const window = askedWindowAt(restartWindows(service), at.time, at.precise);
  return window ? { service: first.name, window } : undefined;
}

/**
 * PM2's exits (or memory-limit reloads) of `target` that were not asked for and that the failures
 * met: they fell in the window from that exit until PM2's restart of it answered.
 */
function crashesMet(target: ServiceSnapshot, seen: Observation[]): Pm2Event[] {
  const crashes = restartWindows(target).filter((window) => !askedFor(window));
  const met = new Set<DownWindow>();
  for (const o of seen) {
    const window = windowAt(crashes, o.time, o.precise);
    if (window) met.add(window);
  }
  return [...met].flatMap(
    (window) =>
      target.events.find(
        (event) =>
          (event.kind === 'exited' || event.kind === 'memory-restart') && second(event.time) === window.from,
      ) ?? [],
  );
}

/** "inventory exited at 22:22:25 (signal SIGKILL) and PM2 restarted it". */
function describeExits(name: string, exits: Pm2Event[]): string {
  const how = (event: Pm2Event) =>
    event.kind === 'memory-restart'
      ? 'over its memory limit'
      : event.signal && event.signal !== 'SIGINT'
        ? `signal ${event.signal}`
        : `exit code ${event.exitCode ?? '?'}`;
  const times = exits.map((event) => `${clock(event.time)} (${how(event)})`);
  return `${name} exited at ${times.join(', ')} and PM2 restarted it`;
}

/** The restarts a service's logged errors met, for its `checked:` line ("2 errors while ..."). */
export interface RestartsMet {
  errors: number;
  restarts: { service: string; window: DownWindow }[];
}

/** The errors (level error and above) since the service's last start that only met a restart. */
export function restartsMet(snapshot: Snapshot, service: ServiceSnapshot): RestartsMet {
  const restarts = new Map<string, { service: string; window: DownWindow }>();
  let errors = 0;
  for (const error of newErrors(service)) {
    if (error.level < 50) continue;
    const failure = failureOfError(error) ?? answeredWithFailure(error);
    const met = failure && metRestart(snapshot, failure, error);
    if (!met) continue;
    errors++;
    restarts.set(`${met.service}@${met.window.from}`, met);
  }
  return { errors, restarts: [...restarts.values()] };
}

const startCommandFor = (name: string) => `pnpm devctl start ${name} --wait`;
