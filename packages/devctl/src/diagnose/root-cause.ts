// Turns the detectors' candidates into the findings a person reads: one finding per root cause.
// - A state (stopped, crash loop, unhealthy) gives way to a cause on the same service (an exception,
//   a config error, a held port), which takes its figures ("crash loop: 5 crashes, ...").
// - A failure caused by another stack service (a relayed 5xx, a timeout, a refused connection) moves
//   to the service that failed on its own, followed by request id through every hop (gateway ->
//   form-service -> data-service), else to that service being down, else by time: the root's
//   finding says who fails because of it, and no relay is ever named as the place to fix.
// - Most severe first; root causes of other failures before the rest.
import type { Candidate } from './detectors/shared';
import { traceCommand } from './requests';
import type { Finding, FindingKind } from './types';

const KIND_ORDER: FindingKind[] = [
  'config-error',
  'build-error',
  'config-mismatch',
  'module-not-found',
  'port-conflict',
  'crash-loop',
  'uncaught-exception',
  'unhandled-rejection',
  'dependency-unreachable',
  'missing',
  'stopped',
  'unhealthy',
  'data-fault',
  'slow-request',
  'request-error',
  'memory-growth',
  'requests-refused',
  'config-stale',
  'logged-error',
  'changed-since-healthy',
];

const MAX_EVIDENCE = 8;

function strip(candidate: Candidate): Finding {
  const requestId = candidate.requests?.[candidate.requests.length - 1];
  const evidence = candidate.evidence.slice(0, requestId ? MAX_EVIDENCE - 1 : MAX_EVIDENCE);
  if (requestId) {
    // The request ties the evidence together: its trace shows every hop.
    const time = evidence[0]?.time ?? new Date().toISOString();
    evidence.push({
      time,
      service: candidate.service,
      stream: 'system',
      text: `request ${requestId}${candidate.requests && candidate.requests.length > 1 ? ` (and ${candidate.requests.length - 1} more)` : ''}: ${traceCommand(requestId)}`,
    });
  }
  return {
    kind: candidate.kind,
    service: candidate.service,
    severity: candidate.severity,
    summary: candidate.summary,
    evidence,
    location: candidate.location,
    next: candidate.next,
    ...(requestId ? { requestId } : {}),
    ...(candidate.affects && candidate.affects.length > 0 ? { affects: candidate.affects } : {}),
  };
}

/** A relayed failure and its cause this far apart, with no request id in common, still belong together. */
const NEARBY_BEFORE_MS = 30_000;
const NEARBY_AFTER_MS = 1_000;

const sharesRequest = (a: Candidate, b: Candidate) =>
  (a.requests ?? []).some((id) => b.requests?.includes(id));

const nearInTime = (relay: Candidate, cause: Candidate) =>
  (relay.times ?? []).some((t) =>
    (cause.times ?? []).some((c) => c >= t - NEARBY_BEFORE_MS && c <= t + NEARBY_AFTER_MS),
  );

/**
 * The candidate that explains `candidate`, a failure it relayed from (or met in) `candidate.causedBy`:
 * in that service, the failure of the same request (followed further down when that one is a relay
 * too); else, when the service is down or broken as a whole, that finding; else, for logs without
 * request ids, a failure of that service close in time. Undefined when nothing there explains it.
 */
function explain(
  candidate: Candidate,
  list: Candidate[],
  seen = new Set<Candidate>(),
): Candidate | undefined {
  const target = candidate.causedBy;
  if (!target || seen.has(candidate)) return undefined;
  seen.add(candidate);
  const pool = list
    .filter((c) => c.service === target && c !== candidate && !seen.has(c))
    .sort((a, b) => rankOf(a) - rankOf(b));
  const follow = (found: Candidate) => (found.causedBy ? (explain(found, list, seen) ?? found) : found);
  const byRequest = pool.filter((c) => sharesRequest(candidate, c));
  const own = byRequest.find((c) => !c.causedBy) ?? byRequest[0];
  if (own) return follow(own);
  // Down or broken as a whole (stopped, crash-looping, misconfigured): not tied to one request.
  const broken = pool.find((c) => !c.causedBy && c.severity === 'error' && (c.requests ?? []).length === 0);
  if (broken) return broken;
  // Without ids in common: the same kind of failure, close in time, in a service that logged no id
  // for it (or a caller that sent none).
  const untracked = (c: Candidate) =>
    (c.requests ?? []).length === 0 || (candidate.requests ?? []).length === 0;
  const nearby = pool.filter((c) => untracked(c) && nearInTime(candidate, c));
  const nearest = nearby.find((c) => !c.causedBy) ?? nearby[0];
  if (nearest) return follow(nearest);
  return undefined;
}

const rankOf = (candidate: Candidate) =>
  (candidate.severity === 'error' ? 0 : 100) + KIND_ORDER.indexOf(candidate.kind);

export function attributeRootCauses(candidates: Candidate[], selected: Set<string>): Finding[] {
  let list = [...candidates];

  // 1. States give way to an error-level cause on the same service.
  for (const service of new Set(list.map((c) => c.service))) {
    const causes = list
      .filter((c) => c.service === service && c.role === 'cause' && c.severity === 'error' && !c.causedBy)
      .sort((a, b) => rankOf(a) - rankOf(b));
    const primary = causes[0];
    if (!primary) continue;
    for (const state of list.filter((c) => c.service === service && c.role === 'state' && !c.causedBy)) {
      // The crash loop's figures say how often: they replace the "(N times since ...)" count.
      if (state.detail)
        primary.summary = `${primary.summary.replace(/ \(\d+ times since [\d:]+\)$/, '')} (${state.detail})`;
      primary.evidence.push(...state.evidence.filter((e) => e.stream === 'pm2').slice(-2));
      primary.location ??= state.location;
    }
    list = list.filter((c) => !(c.service === service && c.role === 'state' && !c.causedBy));
  }

  // 2. A failure caused by another stack service (it relayed that service's 5xx, timed out on it,
  //    could not reach it) folds into the finding of the service that failed on its own.
  const affected = new Map<Candidate, Set<string>>();
  const moved = new Set<Candidate>();
  // Every explanation is found on the candidates as the detectors made them, before any folds.
  const explained = new Map<Candidate, Candidate | undefined>();
  for (const candidate of list) if (candidate.causedBy) explained.set(candidate, explain(candidate, list));
  for (const [candidate, root] of explained) {
    delete candidate.causedBy;
    if (!root || root.service === candidate.service) continue;
    moved.add(candidate);
    const set = affected.get(root) ?? new Set<string>();
    set.add(candidate.service);
    affected.set(root, set);
    // One line per service that suffers is enough.
    for (const item of candidate.evidence.slice(-1)) {
      if (!root.evidence.some((e) => e.service === item.service)) root.evidence.push(item);
    }
    const requests = root.requests ?? [];
    for (const id of candidate.requests ?? []) if (!requests.includes(id)) requests.push(id);
    root.requests = requests;
  }
  list = list.filter((c) => !moved.has(c));
  for (const [root, services] of affected) {
    services.delete(root.service);
    if (services.size === 0) continue;
    const names = [...services].sort();
    // Who fails because of it says more than who depends on it.
    root.summary = root.summary.replace(/; [\w.-]+(, [\w.-]+)* depends? on it$/, '');
    root.summary += `; ${names.join(', ')} fail${names.length === 1 ? 's' : ''} because of it`;
    root.severity = 'error';
    root.affects = names;
  }
  const rootServices = new Map<string, Set<string>>();
  for (const [root, services] of affected) {
    const set = rootServices.get(root.service) ?? new Set<string>();
    for (const service of services) set.add(service);
    rootServices.set(root.service, set);
  }

  // 3. What was asked about, and the root causes of its failures.
  const rootsOfSelected = new Set(
    [...rootServices]
      .filter(([, services]) => [...services].some((s) => selected.has(s)))
      .map(([root]) => root),
  );
  list = list.filter((c) => c.service === 'all' || selected.has(c.service) || rootsOfSelected.has(c.service));

  const isRoot = (c: Candidate) => ((c.affects?.length ?? 0) > 0 ? 0 : 1);
  list.sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      isRoot(a) - isRoot(b) ||
      rankOf(a) - rankOf(b) ||
      a.service.localeCompare(b.service),
  );
  return list.map(strip);
}
