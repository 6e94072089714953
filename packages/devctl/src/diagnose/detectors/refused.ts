// Requests a service keeps refusing for one reason: a 401 on every call is no error in any log,
// only warnings, and a stack that answers /health is "healthy" while nobody can use it (trial 4:
// auth-service's JWT_TTL=1s in its .env; every token was expired by the next call, the gateway
// answered "token expired, log in again" and diagnose said "stack healthy").
// Read from the lines a service logs at warn with a structured `authRefusal` reason (the gateway's
// authenticate.ts). The finding gives the reason, how often, and the settings that decide it:
// those set in a .env file (not defaults) of the refusing service and of every service it shares a
// `mustMatch` setting with (the token's issuer), since a valid value can still be a wrong one.
// Evidence only, no guess at which setting: the fix is the user's to choose.

import { maskValue } from '../../output/mask';
import type { ServiceSnapshot, Snapshot } from '../collect';
import { placeText, setByUser } from '../config-snapshot';
import type { LogLine } from '../log-tail';
import { hopsOf, requestRecord } from '../requests';
import type { Evidence } from '../types';
import {
  type Candidate,
  clock,
  isNew,
  lineEvidence,
  restartCommand,
  serviceNamed,
  systemEvidence,
} from './shared';

/** One refusal is a user's old token; the same reason again is a pattern worth a look. */
export const REPEATED = 2;
/**
 * A token issued to live at least this long and refused as expired was kept past a normal
 * lifetime (a user back after lunch): not a fault. Shorter lifetimes expire between two calls.
 */
export const USABLE_LIFETIME_S = 300;

interface Refusal {
  time: number;
  reason: string;
  lifetime: number | undefined;
  evidence: Evidence;
}

function refusalsOf(snapshot: Snapshot, service: ServiceSnapshot): Refusal[] {
  const found: Refusal[] = [];
  for (const line of service.lines) {
    const record = line.record;
    if (Number(record?.level ?? 0) !== 40 || typeof record?.authRefusal !== 'string') continue;
    if (!isNew(service, { time: line.time, precise: true })) continue;
    const lifetime = typeof record.tokenLifetimeS === 'number' ? record.tokenLifetimeS : undefined;
    found.push({
      time: line.time,
      reason: record.authRefusal,
      lifetime,
      evidence: { ...lineEvidence(snapshot, service.entry.name, line), text: `WARN ${String(record.msg)}` },
    });
  }
  return found;
}

/** The services whose settings decide what `service` accepts: itself and its mustMatch partners. */
export function decidingServices(snapshot: Snapshot, service: string): string[] {
  const configs = snapshot.config?.configs;
  if (!configs) return [service];
  const groups = new Set(
    [...(configs.get(service)?.variables.values() ?? [])].flatMap((v) => (v.mustMatch ? [v.mustMatch] : [])),
  );
  const partners = [...configs.values()]
    .filter(
      (config) =>
        config.service !== service &&
        [...config.variables.values()].some((v) => v.mustMatch !== undefined && groups.has(v.mustMatch)),
    )
    .map((config) => config.service);
  return [service, ...partners.sort()];
}

function settingsText(snapshot: Snapshot, services: string[]): string[] {
  return services.flatMap((name) =>
    [...(snapshot.config?.configs.get(name)?.variables.values() ?? [])]
      .filter(setByUser)
      .map((v) => `${name}: ${v.name}=${maskValue(v.name, v.value ?? '')} (${placeText(v.place)})`),
  );
}

export function detectRefusals(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const byReason = new Map<string, Refusal[]>();
    for (const refusal of refusalsOf(snapshot, service)) {
      byReason.set(refusal.reason, [...(byReason.get(refusal.reason) ?? []), refusal]);
    }
    for (const [reason, refusals] of byReason) {
      const deciding = decidingServices(snapshot, name);
      // A start asked for of a deciding service (after an edit of its .env) makes earlier refusals
      // history: the tokens they refused were issued under the old settings. Without the
      // configuration checked the partners are unknown: any service it depends on counts.
      const restartedAt = Math.max(
        0,
        ...[...deciding, ...(snapshot.config ? [] : service.entry.dependsOn)].map((other) => {
          const since = serviceNamed(snapshot, other)?.since;
          return since === undefined ? 0 : Math.floor(since / 1000) * 1000;
        }),
      );
      const current = refusals.filter((refusal) => refusal.time >= restartedAt);
      if (current.length < REPEATED) continue;
      const lifetimes = current.flatMap((r) => (r.lifetime === undefined ? [] : [r.lifetime]));
      const shortest = lifetimes.length > 0 ? Math.min(...lifetimes) : undefined;
      // Expired tokens that had a usable life: users who came back late, not a fault.
      if (lifetimes.length === current.length && shortest !== undefined && shortest >= USABLE_LIFETIME_S)
        continue;
      const settings = settingsText(snapshot, deciding);
      const last = current[current.length - 1] as Refusal;
      const life =
        shortest !== undefined && shortest < USABLE_LIFETIME_S
          ? `: the tokens were issued to live only ${shortest} s`
          : '';
      const where = deciding.length > 1 ? deciding.slice(1).join(' ') : name;
      found.push({
        kind: 'requests-refused',
        service: name,
        severity: 'warning',
        role: 'cause',
        summary: `${name} refused ${current.length} requests since ${clock((current[0] as Refusal).time)} (last at ${clock(last.time)}): ${reason}${life}`,
        evidence: [
          ...current.slice(-2).map((r) => r.evidence),
          systemEvidence(
            snapshot,
            name,
            settings.length > 0
              ? `settings of ${deciding.join(', ')} set in .env files or ecosystem.config.js (not defaults): ${settings.join('; ')}`
              : `no setting of ${deciding.join(', ')} is set in a .env file or ecosystem.config.js: all are defaults`,
          ),
        ],
        location: null,
        next:
          settings.length > 0
            ? `check the settings above that decide "${reason}" (pnpm devctl env ${deciding.join(' ')} shows each with its source); after an edit: ${restartCommand(where)}`
            : `pnpm devctl env ${deciding.join(' ')} (what decides "${reason}"), then pnpm devctl logs ${name} --lines 50`,
      });
    }
  }
  return found;
}

/** `route GET /users/by-email/ada%40example.com not found`: the kit's answer to a path no route has. */
const ROUTE_MISS = /^route ([A-Z]+) (\S+) not found$/;

/** A path with its values made `:value` (ids, emails, numbers), so misses of one route group together. */
export function routeShape(path: string): string {
  return path
    .split('/')
    .map((segment) => (/[0-9@%]/.test(segment) || segment.length > 24 ? ':value' : segment))
    .join('/');
}

/**
 * Calls between the stack's services to a route the called service does not have: the kit answers
 * 404 `route <METHOD> <path> not found` and logs it as the reason of "request completed", and the
 * caller (the service whose hop of the same request id holds this one) may read a 404 as "no such
 * record" and log nothing (trial 13: data-service moved GET /users/by-email/:email to a query
 * string in a commit; auth-service kept calling the old path and answered every login 401 "wrong
 * email or password"; no log line above info anywhere). A user's mistyped URL at the entry is no
 * fault: only a miss with a stack service as its caller counts. One is enough: the code that runs
 * disagrees with itself. The caller is in `affects`; upstream-change.ts adds the newest change of
 * either side.
 */
export function detectRouteMisses(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  const allHops = snapshot.services.flatMap((service) => hopsOf(service));
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const callersOf = new Set(
      snapshot.services
        .filter((other) => other.entry.dependsOn.includes(name))
        .map((other) => other.entry.name),
    );
    const latestCallerStart = Math.max(
      0,
      ...[...(callersOf.size > 0 ? callersOf : snapshot.services.map((other) => other.entry.name))]
        .filter((other) => other !== name)
        .map((other) => serviceNamed(snapshot, other)?.since ?? 0),
    );
    const misses = new Map<string, { callers: Set<string>; lines: LogLine[]; requests: string[] }>();
    for (const line of service.lines) {
      if (!line.text.includes('not found')) continue;
      const record = requestRecord(line);
      if (record?.msg !== 'request completed' || typeof record.reason !== 'string') continue;
      const miss = ROUTE_MISS.exec(record.reason);
      const requestId = record.reqId;
      if (!miss || typeof requestId !== 'string' || !isNew(service, { time: line.time, precise: true }))
        continue;
      // The caller: the innermost hop of another service that holds this answer in time.
      const caller = allHops
        .filter(
          (hop) =>
            hop.requestId === requestId &&
            hop.service !== name &&
            hop.start !== undefined &&
            hop.start <= line.time &&
            (hop.end === undefined || hop.end >= line.time),
        )
        .sort((a, b) => (b.start as number) - (a.start as number))[0];
      // Only a service that may call it (the ecosystem's depends_on, when any service declares it):
      // an outer hop (the gateway) holds the answer too when the real caller's lines are gone.
      if (!caller || (callersOf.size > 0 && !callersOf.has(caller.service))) continue;
      // A path the caller passed on as it was asked (the gateway's forward of /api/<name>/*): the
      // user's URL, not the code's.
      const missPath = miss[2] as string;
      if (caller.url !== undefined && (caller.url.split('?')[0] as string).endsWith(missPath)) continue;
      // Misses from before a start of a service that may call it came from code that runs no more
      // (and whose lines, read since its start, no longer show which service it was).
      if (line.time < latestCallerStart) continue;
      const key = `${miss[1]} ${routeShape(missPath)}`;
      const entry = misses.get(key) ?? { callers: new Set<string>(), lines: [], requests: [] };
      entry.callers.add(caller.service);
      entry.lines.push(line);
      entry.requests.push(requestId);
      misses.set(key, entry);
    }
    for (const [route, { callers, lines, requests }] of misses) {
      const last = lines[lines.length - 1] as LogLine;
      const who = [...callers].sort();
      const times =
        lines.length > 1
          ? `${lines.length} times since ${clock((lines[0] as LogLine).time)} (last at ${clock(last.time)})`
          : `at ${clock(last.time)}`;
      found.push({
        kind: 'requests-refused',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: `${who.join(', ')} called ${route} on ${name}, which has no such route: ${name} answered 404 ${times}; the caller and ${name}'s routes disagree`,
        evidence: lines.slice(-2).map((line) => lineEvidence(snapshot, name, line)),
        location: null,
        next: `compare the path ${who.join(', ')} builds for ${route} with the routes ${name} declares (pnpm devctl trace ${requests[requests.length - 1]}), fix the side that changed, then ${restartCommand(name)} or ${who.map(restartCommand).join(' / ')}`,
        affects: who,
        requests,
        times: lines.map((line) => line.time),
      });
    }
  }
  return found;
}
