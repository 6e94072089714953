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
import { placeText, type ResolvedVariable } from '../config-snapshot';
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

const setInEnvFile = (variable: ResolvedVariable) => variable.source.endsWith('.env');

function settingsText(snapshot: Snapshot, services: string[]): string[] {
  return services.flatMap((name) =>
    [...(snapshot.config?.configs.get(name)?.variables.values() ?? [])]
      .filter(setInEnvFile)
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
              ? `settings set in .env files of ${deciding.join(', ')} (not defaults): ${settings.join('; ')}`
              : `no setting of ${deciding.join(', ')} is set in a .env file: all are defaults`,
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
