// What every detector shares: the candidate finding type (with the attribution fields the
// root-cause pass uses), evidence builders, and the "is this error new" rule.
import type { ServiceSnapshot, Snapshot } from '../collect';
import type { LoggedError, LogLine } from '../log-tail';
import type { Pm2Event } from '../pm2-log';
import { relativizePaths } from '../stack';
import type { Evidence, Finding } from '../types';

export interface Candidate extends Finding {
  /**
   * `cause` names why something fails (a config error, an exception, a held port); `state` only
   * says how it looks (stopped, crash loop, unhealthy) and gives way to a cause on the same service.
   */
  role: 'cause' | 'state';
  /** The stack service whose failure explains this one: the finding moves to that service. */
  causedBy?: string;
  /** A short phrase added to the cause's summary when this state finding gives way to it. */
  detail?: string;
  /**
   * The ids of the requests this failure is part of, oldest first: the root-cause pass follows a
   * relayed failure to the candidate of the service it names that shares one of them.
   */
  requests?: string[];
  /** When it happened (ms), for the fallback by time when no request id is shared. */
  times?: number[];
}

export type Detector = (snapshot: Snapshot) => Candidate[];

export const iso = (ms: number) => new Date(ms).toISOString();

/** Clock time for summaries, e.g. 12:03:04. */
export const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

export const restartCommand = (name: string) => `pnpm devctl restart ${name} --wait`;
export const startCommand = (name: string) => `pnpm devctl start ${name} --wait`;
export const logsCommand = (name: string) => `pnpm devctl logs ${name} --err --lines 50`;

/**
 * True when the error was written after the service's last start that the user asked for. Times
 * from PM2's prefix have second precision, so they are compared with that second.
 */
export function isNew(service: ServiceSnapshot, error: { time: number; precise: boolean }): boolean {
  if (service.since === undefined) return true;
  const since = error.precise ? service.since : Math.floor(service.since / 1000) * 1000;
  return error.time >= since;
}

export const newErrors = (service: ServiceSnapshot) =>
  service.errors.filter((error) => isNew(service, error));

/**
 * The error's own message. pino's serializer appends the messages of its causes to `err.message`
 * (`SQLITE_ERROR: no such table: x: no such table: x`); the first line of the stack has it alone.
 */
export function ownMessage(error: LoggedError): string | undefined {
  const first = error.stack?.split('\n')[0];
  if (first && error.type && first.startsWith(`${error.type}: `)) return first.slice(error.type.length + 2);
  return error.errorMessage;
}

const MAX_FRAMES = 12;

/** A stack without its frames past the first dozen, with paths made repository-relative. */
export function trimStack(stack: string, root: string): string {
  const lines = relativizePaths(stack, root).split('\n');
  const frames = lines.filter((line) => /^\s+at /.test(line));
  if (frames.length <= MAX_FRAMES) return lines.join('\n');
  let seen = 0;
  const kept = lines.filter((line) => !/^\s+at /.test(line) || ++seen <= MAX_FRAMES);
  return `${kept.join('\n')}\n    ... ${frames.length - MAX_FRAMES} more frames`;
}

/** One piece of evidence for an error: its log line(s), with the stack when it has one. */
export function errorEvidence(snapshot: Snapshot, service: string, error: LoggedError): Evidence {
  const root = snapshot.ecosystem.root;
  let text: string;
  if (error.origin === 'pino') {
    const level = error.level >= 60 ? 'FATAL' : error.level >= 50 ? 'ERROR' : 'WARN';
    const request =
      error.method && error.url && !error.message.includes(error.url)
        ? ` (${error.method} ${error.url})`
        : '';
    text = `${level} ${error.message}${request}`;
    if (error.stack) text += `\n${trimStack(error.stack, root)}`;
  } else if (error.origin === 'node' && error.stack) {
    text = trimStack(error.stack, root);
  } else {
    text = relativizePaths(error.lines.join('\n'), root);
  }
  return { time: iso(error.time), service, stream: error.stream, text };
}

export function lineEvidence(snapshot: Snapshot, service: string, line: LogLine): Evidence {
  return {
    time: iso(line.time),
    service,
    stream: line.stream,
    text: relativizePaths(line.text, snapshot.ecosystem.root),
  };
}

export function pm2Evidence(service: string, event: Pm2Event): Evidence {
  return { time: iso(event.time), service, stream: 'pm2', text: event.text };
}

export function systemEvidence(
  snapshot: Snapshot,
  service: string,
  text: string,
  stream: 'system' | 'probe' = 'system',
): Evidence {
  return { time: iso(snapshot.now), service, stream, text };
}

/** The snapshot of one service by PM2 name. */
export const serviceNamed = (snapshot: Snapshot, name: string) =>
  snapshot.services.find((service) => service.entry.name === name);

/** True when the service is not serving: not running, or running but failing /health. */
export function isDown(service: ServiceSnapshot): boolean {
  if (service.state !== 'online') return true;
  return service.health !== undefined && !service.health.ok;
}

/** Services of the ecosystem that depend on `name` (depends_on or a configured URL). */
export function dependentsOf(snapshot: Snapshot, name: string): ServiceSnapshot[] {
  return snapshot.services.filter(
    (service) =>
      service.entry.name !== name &&
      (service.entry.dependsOn.includes(name) ||
        service.dependencies.some((dep) => dep.kind === 'service' && dep.name === name)),
  );
}

/** "1 time" / "3 times since 12:00:01". */
export function occurrences(times: number[]): string {
  if (times.length <= 1) return '';
  return ` (${times.length} times since ${clock(Math.min(...times))})`;
}

export { MiB, mib } from '../../output/format';
