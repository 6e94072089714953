// Settings that must agree across services, checked on each service's configuration as its next
// start reads it (config-snapshot.ts), before anything fails at run time:
// - a shared setting: every variable that the schemas declare with the same `mustMatch` group (the
//   JWT key auth-service signs with and api-gateway verifies with) must hold the same value. Only
//   short hashes are compared and shown, never a value.
// - a service URL: every `<NAME>_URL` naming a service of the stack (`AUTH_SERVICE_URL` ->
//   auth-service) on this machine must use the port that service listens on.
// A mismatch is an error naming both variables and both files with their lines.
import { serviceOfUrlVariable } from '@repo/stack-contract';
import type { Snapshot } from '../collect';
import { type Place, placeText, type ServiceConfig } from '../config-snapshot';
import { isLocalHost } from '../dependencies';
import type { Evidence } from '../types';
import {
  type Candidate,
  errorEvidence,
  isNew,
  lineEvidence,
  newErrors,
  restartCommand,
  systemEvidence,
} from './shared';

/** One service's variable of a shared-setting group. */
export interface SharedMember {
  service: string;
  variable: string;
  group: string;
  /** True when a value is set; unset, the service uses `fallback` (when it has one). */
  set: boolean;
  /** `sha256:xxxxxxxx` of the value in effect (set, or the development secret it falls back to). */
  hash?: string;
  /** The development secret file it uses when unset. */
  fallback?: string;
  place: Place;
}

export interface SharedMismatch {
  group: string;
  /** The members grouped by what they hold, largest group first. */
  sides: SharedMember[][];
}

/**
 * What a member holds, comparable across services: its hash; or, unset with a development secret
 * not yet generated, that file (every service falling back to it will get the same one); or unset.
 */
export function identityOf(member: SharedMember): string {
  if (member.hash) return member.hash;
  if (!member.set && member.fallback) return `fallback:${member.fallback}`;
  return member.set ? 'set' : 'unset';
}

/** The groups whose members do not all hold the same value. */
export function sharedMismatches(members: SharedMember[]): SharedMismatch[] {
  const groups = new Map<string, SharedMember[]>();
  for (const member of members) groups.set(member.group, [...(groups.get(member.group) ?? []), member]);
  const found: SharedMismatch[] = [];
  for (const [group, list] of groups) {
    const sides = new Map<string, SharedMember[]>();
    for (const member of list) {
      const identity = identityOf(member);
      sides.set(identity, [...(sides.get(identity) ?? []), member]);
    }
    if (sides.size > 1) found.push({ group, sides: [...sides.values()].sort((a, b) => b.length - a.length) });
  }
  return found;
}

/** A `<NAME>_URL` variable of a service. */
export interface ServiceUrl {
  service: string;
  variable: string;
  /** As the kit printed it (credentials masked). */
  value: string;
  place: Place;
}

/** The port a service listens on and where that is set. */
export interface Listener {
  service: string;
  port: number;
  place: Place | null;
}

export interface UrlMismatch {
  url: ServiceUrl;
  target: Listener;
  /** The port the URL points at. */
  port: number;
}

function portOf(url: string): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

/** URLs on this machine that name a service of the stack but not the port it listens on. */
export function urlMismatches(urls: ServiceUrl[], listeners: Listener[]): UrlMismatch[] {
  const names = listeners.map((listener) => listener.service);
  const found: UrlMismatch[] = [];
  for (const url of urls) {
    const name = serviceOfUrlVariable(url.variable, names);
    const target = listeners.find((listener) => listener.service === name);
    const address = portOf(url.value);
    // Another host is another machine: its port is not this stack's business.
    if (!target || !address || !isLocalHost(address.host) || target.service === url.service) continue;
    if (address.port !== target.port) found.push({ url, target, port: address.port });
  }
  return found;
}

function membersOf(configs: ServiceConfig[]): SharedMember[] {
  return configs.flatMap((config) =>
    [...config.variables.values()]
      .filter((variable) => variable.mustMatch !== undefined)
      .map((variable) => ({
        service: config.service,
        variable: variable.name,
        group: variable.mustMatch as string,
        set: variable.value !== null,
        hash: variable.hash,
        fallback: variable.fallback,
        place: variable.place,
      })),
  );
}

/** The `<NAME>_URL` variables and the ports the services listen on, as the next start reads them. */
function urlsAndListeners(snapshot: Snapshot): { urls: ServiceUrl[]; listeners: Listener[] } {
  const configs = [...(snapshot.config?.configs.values() ?? [])];
  const urls = configs.flatMap((config) =>
    [...config.variables.values()]
      .filter((variable) => /_URL$/.test(variable.name) && variable.value !== null)
      .map((variable) => ({
        service: config.service,
        variable: variable.name,
        value: variable.value as string,
        place: variable.place,
      })),
  );
  const listeners = snapshot.services.flatMap((service): Listener[] => {
    const printed = snapshot.config?.configs.get(service.entry.name)?.variables.get('PORT');
    const port = printed?.value ? Number(printed.value) : service.entry.port;
    if (port === undefined || !Number.isInteger(port)) return [];
    return [{ service: service.entry.name, port, place: printed?.place ?? null }];
  });
  return { urls, listeners };
}

/** The static URL mismatches of the snapshot (also used by the dependency detector to stay quiet). */
export function snapshotUrlMismatches(snapshot: Snapshot): UrlMismatch[] {
  const { urls, listeners } = urlsAndListeners(snapshot);
  return urlMismatches(urls, listeners);
}

export interface UrlPathMismatch {
  url: ServiceUrl;
  target: string;
  /** The path the URL adds before every route, e.g. `/v1`. */
  prefix: string;
  /** What the caller met: the target's "route ... not found" answers for prefixed routes. */
  seen: Evidence[];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Service URLs with a path the service does not serve: the kit's client puts the URL's path before
 * every route, and a stack service answers at its root, so `DATA_SERVICE_URL=http://127.0.0.1:3004/v1`
 * asks for `/v1/health`, `/v1/users` (trial 4: auth-service "not ready", signup answered "route POST
 * /v1/users not found", and the finding asked to make data-service reachable). Only with evidence:
 * the caller met "route <METHOD> <prefix>/... not found" since its start (a path can be meant, behind
 * a proxy that strips it).
 */
export function snapshotUrlPathMismatches(snapshot: Snapshot): UrlPathMismatch[] {
  const { urls, listeners } = urlsAndListeners(snapshot);
  const names = listeners.map((listener) => listener.service);
  const found: UrlPathMismatch[] = [];
  for (const url of urls) {
    const target = serviceOfUrlVariable(url.variable, names);
    if (!target || target === url.service) continue;
    let prefix: string;
    try {
      const parsed = new URL(url.value);
      if (!isLocalHost(parsed.hostname.replace(/^\[|\]$/g, ''))) continue;
      prefix = parsed.pathname.replace(/\/+$/, '');
    } catch {
      continue;
    }
    if (prefix === '') continue;
    const caller = snapshot.services.find((service) => service.entry.name === url.service);
    if (!caller) continue;
    const notFound = new RegExp(`route [A-Z]+ ${escapeRegExp(prefix)}/\\S* not found`);
    const seen: Evidence[] = [
      ...newErrors(caller)
        .filter((error) => notFound.test(error.errorMessage ?? error.message))
        .slice(-2)
        .map((error) => errorEvidence(snapshot, url.service, error)),
    ];
    for (const probe of [caller.ready, caller.health]) {
      const body = probe?.body === undefined ? '' : JSON.stringify(probe.body);
      const match = notFound.exec(body);
      if (probe && match)
        seen.push(
          systemEvidence(snapshot, url.service, `GET ${probe.path} -> ${probe.status}: ${match[0]}`, 'probe'),
        );
    }
    if (seen.length > 0) found.push({ url, target, prefix, seen });
  }
  return found;
}

/**
 * The file where a service URL should be set: where it is set, or the service's own .env when it
 * comes from devctl's environment (the ecosystem).
 */
function fileToSet(snapshot: Snapshot, url: ServiceUrl): string {
  if (!url.place.file.startsWith('devctl')) return url.place.file;
  const caller = snapshot.services.find((service) => service.entry.name === url.service);
  return `${caller?.entry.folder ?? 'the service'}/.env`;
}

function urlPathFinding(snapshot: Snapshot, mismatch: UrlPathMismatch): Candidate {
  const { url, target, prefix } = mismatch;
  const fixed = url.value.replace(/^(\w+:\/\/[^/]+).*$/, '$1');
  const where = fileToSet(snapshot, url);
  return {
    kind: 'config-mismatch',
    service: url.service,
    severity: 'error',
    role: 'cause',
    summary: `${url.service}'s ${url.variable} (${placeText(url.place)}) adds the path ${prefix} before every route, but ${target} serves its routes at its root: it answers "not found" to ${prefix}/...`,
    evidence: [
      systemEvidence(snapshot, url.service, `${url.variable}=${url.value}, set in ${placeText(url.place)}`),
      ...mismatch.seen,
    ],
    location: url.place.line === null ? null : { file: url.place.file, line: url.place.line, column: 1 },
    next: `set ${url.variable}=${fixed} in ${where}, then ${restartCommand(url.service)}`,
  };
}

/** `sha256:1a2b3c4d`, or what an unset member uses instead. */
function holds(member: SharedMember): string {
  if (!member.set && member.fallback) {
    return `unset: the development secret ${member.fallback}${member.hash ? `, ${member.hash}` : ', not generated yet'}`;
  }
  return member.hash ?? 'unset';
}

const describeMember = (member: SharedMember, withVariable: boolean) =>
  `${member.service}${withVariable ? ` ${member.variable}` : ''} (${placeText(member.place)}, ${holds(member)})`;

/** Warnings and errors of the members since their start that name one of the group's variables. */
function symptomEvidence(snapshot: Snapshot, members: SharedMember[]): Evidence[] {
  const variables = new Set(members.map((member) => member.variable));
  const evidence: Evidence[] = [];
  for (const service of snapshot.services) {
    if (!members.some((member) => member.service === service.entry.name)) continue;
    const lines = service.lines.filter((line) => {
      const level = Number(line.record?.level ?? 0);
      const message = String(line.record?.msg ?? '');
      return (
        level >= 40 &&
        [...variables].some((v) => message.includes(v)) &&
        isNew(service, { time: line.time, precise: true })
      );
    });
    evidence.push(
      ...lines.slice(-2).map((line) => ({
        ...lineEvidence(snapshot, service.entry.name, line),
        text: `${Number(line.record?.level) >= 50 ? 'ERROR' : 'WARN'} ${String(line.record?.msg)}`,
      })),
    );
  }
  return evidence;
}

function sharedFinding(snapshot: Snapshot, mismatch: SharedMismatch, order: string[]): Candidate {
  const members = mismatch.sides.flat();
  // The fault is on the side fewer services take; between equals, the service started later in
  // the ecosystem (the one that depends on the other, where the symptom shows). A service asked
  // about (`diagnose auth-service`) takes the finding, so it is not left out of the answer.
  const minority = mismatch.sides[mismatch.sides.length - 1] as SharedMember[];
  const byOrder = (list: SharedMember[]) =>
    [...list].sort((a, b) => order.indexOf(b.service) - order.indexOf(a.service));
  const selected = (list: SharedMember[]) => list.filter((m) => snapshot.selected.has(m.service));
  const atFault = (byOrder(selected(minority))[0] ??
    byOrder(selected(members))[0] ??
    byOrder(minority)[0]) as SharedMember;
  const names = [...new Set(members.map((member) => member.variable))];
  const variables = names.join(' / ');
  const services = [...new Set(members.map((member) => member.service))];
  const fallbacks = [...new Set(members.map((member) => member.fallback))];
  const sharedFallback = fallbacks.length === 1 ? fallbacks[0] : undefined;
  const files = [...new Set(members.filter((m) => m.set).map((member) => placeText(member.place)))].join(
    ' and ',
  );
  return {
    kind: 'config-mismatch',
    service: atFault.service,
    severity: 'error',
    role: 'cause',
    summary: `${variables} differs between ${mismatch.sides.map((side) => side.map((m) => describeMember(m, names.length > 1)).join(', ')).join(' and ')}: the schemas declare it one shared setting (mustMatch '${mismatch.group}'), so what one service issues the other refuses`,
    evidence: [
      ...members.map((member) =>
        systemEvidence(
          snapshot,
          member.service,
          `${member.variable} ${member.set ? '= ****' : 'unset'} ${holds(member)}, ${member.set ? 'set' : 'not set'} in ${placeText(member.place)} (mustMatch '${mismatch.group}')`,
        ),
      ),
      ...symptomEvidence(snapshot, members),
    ],
    location:
      atFault.place.line === null ? null : { file: atFault.place.file, line: atFault.place.line, column: 1 },
    next: `give ${variables} the same value in ${files || 'each service'}${sharedFallback ? ` (or remove it from each: they then share ${sharedFallback})` : ''}, then pnpm devctl restart ${services.join(' ')} --wait`,
  };
}

/** The URL with another port, written as the user wrote it (no trailing slash added). */
export function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  const text = parsed.toString();
  return url.endsWith('/') || !text.endsWith('/') ? text : text.slice(0, -1);
}

function urlFinding(snapshot: Snapshot, mismatch: UrlMismatch): Candidate {
  const { url, target, port } = mismatch;
  const caller = snapshot.services.find((service) => service.entry.name === url.service);
  const portPlace = target.place ? ` (PORT, ${placeText(target.place)})` : '';
  const failures = caller
    ? newErrors(caller)
        .filter(
          (error) => error.message.includes(`:${port}`) || (error.errorMessage ?? '').includes(`:${port}`),
        )
        .slice(-2)
        .map((error) => errorEvidence(snapshot, url.service, error))
    : [];
  const fixed = withPort(url.value, target.port);
  const where = fileToSet(snapshot, url);
  return {
    kind: 'config-mismatch',
    service: url.service,
    severity: 'error',
    role: 'cause',
    summary: `${url.service}'s ${url.variable} (${placeText(url.place)}) points at port ${port}, but ${target.service} listens on port ${target.port}${portPlace}`,
    evidence: [
      systemEvidence(snapshot, url.service, `${url.variable}=${url.value}, set in ${placeText(url.place)}`),
      systemEvidence(
        snapshot,
        target.service,
        `PORT=${target.port}${target.place ? `, set in ${placeText(target.place)}` : ''}`,
      ),
      ...failures,
    ],
    location: url.place.line === null ? null : { file: url.place.file, line: url.place.line, column: 1 },
    next: `set ${url.variable}=${fixed} in ${where}, then ${restartCommand(url.service)}`,
  };
}

export function detectConfigConsistency(snapshot: Snapshot): Candidate[] {
  if (!snapshot.config) return [];
  const order = snapshot.ecosystem.services.map((service) => service.name);
  const concerns = (services: string[]) => services.some((service) => snapshot.selected.has(service));
  const shared = sharedMismatches(membersOf([...snapshot.config.configs.values()]))
    .filter((mismatch) => concerns(mismatch.sides.flat().map((member) => member.service)))
    .map((mismatch) => sharedFinding(snapshot, mismatch, order));
  const urls = snapshotUrlMismatches(snapshot)
    .filter((mismatch) => concerns([mismatch.url.service]))
    .map((mismatch) => urlFinding(snapshot, mismatch));
  const paths = snapshotUrlPathMismatches(snapshot)
    .filter((mismatch) => concerns([mismatch.url.service]))
    .map((mismatch) => urlPathFinding(snapshot, mismatch));
  return [...shared, ...urls, ...paths];
}
