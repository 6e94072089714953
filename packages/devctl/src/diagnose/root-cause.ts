// Turns the detectors' candidates into the findings a person reads: one finding per root cause.
// - A state (stopped, crash loop, unhealthy) gives way to a cause on the same service (an exception,
//   a config error, a held port), which takes its figures ("crash loop: 5 crashes, ...").
// - A failure caused by another stack service that is down moves to that service, following the
//   chain (gateway -> form-service -> data-service): data-service's finding says who suffers.
// - Most severe first; root causes of other failures before the rest.
import type { Candidate } from './detectors/shared';
import type { Finding, FindingKind } from './types';

const KIND_ORDER: FindingKind[] = [
  'config-error',
  'module-not-found',
  'port-conflict',
  'crash-loop',
  'uncaught-exception',
  'unhandled-rejection',
  'dependency-unreachable',
  'missing',
  'stopped',
  'unhealthy',
  'request-error',
  'memory-growth',
  'logged-error',
];

const MAX_EVIDENCE = 8;

function strip(candidate: Candidate): Finding {
  return {
    kind: candidate.kind,
    service: candidate.service,
    severity: candidate.severity,
    summary: candidate.summary,
    evidence: candidate.evidence.slice(0, MAX_EVIDENCE),
    location: candidate.location,
    next: candidate.next,
  };
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

  // 2. Failures caused by a down stack service move to that service's own finding.
  const own = (service: string) => list.filter((c) => c.service === service && !c.causedBy);
  const rootOf = (service: string, seen = new Set<string>()): string | undefined => {
    if (seen.has(service)) return undefined;
    seen.add(service);
    if (own(service).length > 0) return service;
    const next = list.find((c) => c.service === service && c.causedBy)?.causedBy;
    return next ? rootOf(next, seen) : undefined;
  };
  const affected = new Map<string, Set<string>>();
  const moved = new Set<Candidate>();
  for (const candidate of list) {
    if (!candidate.causedBy) continue;
    const root = rootOf(candidate.causedBy);
    if (!root || root === candidate.service) {
      delete candidate.causedBy;
      continue;
    }
    moved.add(candidate);
    const set = affected.get(root) ?? new Set<string>();
    set.add(candidate.service);
    affected.set(root, set);
    const primary = own(root).sort((a, b) => rankOf(a) - rankOf(b))[0] as Candidate;
    // One line per service that suffers is enough.
    for (const item of candidate.evidence.slice(-1)) {
      if (!primary.evidence.some((e) => e.service === item.service)) primary.evidence.push(item);
    }
  }
  list = list.filter((c) => !moved.has(c));
  for (const [root, services] of affected) {
    const primary = own(root).sort((a, b) => rankOf(a) - rankOf(b))[0] as Candidate;
    const names = [...services].sort();
    // Who fails because of it says more than who depends on it.
    primary.summary = primary.summary.replace(/; [\w.-]+(, [\w.-]+)* depends? on it$/, '');
    primary.summary += `; ${names.join(', ')} fail${names.length === 1 ? 's' : ''} because of it`;
    primary.severity = 'error';
  }

  // 3. What was asked about, and the root causes of its failures.
  const rootsOfSelected = new Set(
    [...affected].filter(([, services]) => [...services].some((s) => selected.has(s))).map(([root]) => root),
  );
  list = list.filter((c) => c.service === 'all' || selected.has(c.service) || rootsOfSelected.has(c.service));

  const isRoot = (c: Candidate) => (affected.has(c.service) ? 0 : 1);
  list.sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      isRoot(a) - isRoot(b) ||
      rankOf(a) - rankOf(b) ||
      a.service.localeCompare(b.service),
  );
  return list.map(strip);
}
