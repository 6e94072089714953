// Online in PM2 but not serving: GET /health or /ready fails or times out. The finding quotes the
// reason the service gives (the kit's /ready answers each check with its error). A /ready failing
// because another stack service is down is attributed to that service.
import type { Snapshot } from '../collect';
import { type Candidate, isDown, logsCommand, restartCommand, serviceNamed, systemEvidence } from './shared';

/** A process this young may still be opening its port. */
const STARTING_GRACE_MS = 3000;

interface ReadyCheck {
  ok?: boolean;
  error?: string;
}

export function detectUnhealthy(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    if (service.state !== 'online' || service.entry.port === undefined) continue;
    const young =
      service.process?.startedAt !== undefined &&
      snapshot.now - service.process.startedAt < STARTING_GRACE_MS;
    const { health, ready } = service;
    if (health && !health.ok) {
      if (young && health.error === 'ECONNREFUSED') continue;
      const reason = health.status
        ? `answered ${health.status}${bodyText(health.body)}`
        : (health.error ?? 'failed');
      found.push({
        kind: 'unhealthy',
        service: name,
        severity: 'error',
        role: 'state',
        summary: `${name} is online in PM2 but GET /health ${reason}`,
        evidence: [
          systemEvidence(
            snapshot,
            name,
            `GET http://${service.host}:${service.entry.port}/health -> ${reason} (${health.latencyMs} ms)`,
            'probe',
          ),
        ],
        location: null,
        next: `${logsCommand(name)}; then ${restartCommand(name)}`,
      });
      continue;
    }
    if (ready && !ready.ok) {
      if (ready.status === 404) continue;
      const checks = ((ready.body as { checks?: Record<string, ReadyCheck> } | undefined)?.checks ??
        {}) as Record<string, ReadyCheck>;
      const failing = Object.entries(checks).filter(([, check]) => check?.ok === false);
      const reasons = failing.map(([check, result]) => `${check}: ${result.error ?? 'failed'}`);
      const reason =
        reasons.length > 0
          ? reasons.join('; ')
          : ready.status
            ? `answered ${ready.status}${bodyText(ready.body)}`
            : (ready.error ?? 'failed');
      // Not ready because a stack service it needs is down: that service is the root cause.
      const downDependency = failing
        .map(
          ([check, result]) =>
            serviceNamed(snapshot, check) ??
            snapshot.services.find((s) => String(result.error ?? '').startsWith(`${s.entry.name} `)),
        )
        .find((dependency) => dependency !== undefined && isDown(dependency));
      found.push({
        kind: 'unhealthy',
        service: name,
        severity: 'error',
        role: 'state',
        causedBy: downDependency?.entry.name,
        summary: `${name} is online but not ready: ${reason}`,
        evidence: [
          systemEvidence(
            snapshot,
            name,
            `GET http://${service.host}:${service.entry.port}/ready -> ${ready.status ?? ready.error} (${ready.latencyMs} ms): ${reason}`,
            'probe',
          ),
        ],
        location: null,
        next:
          failing.length > 0
            ? `make ${failing.map(([check]) => check).join(', ')} reachable for ${name} (${logsCommand(name)}), then ${restartCommand(name)}`
            : `${logsCommand(name)}; then ${restartCommand(name)}`,
      });
    }
  }
  return found;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === '') return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `: ${text.length > 200 ? `${text.slice(0, 197)}...` : text}`;
}
