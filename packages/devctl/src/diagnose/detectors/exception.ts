// Errors thrown by the project's code: uncaught exceptions and unhandled rejections (the kit logs
// them as fatal, `uncaught exception: <msg>`, then exits; before the kit's handlers are installed
// Node prints its own multi-line report), errors that answered a request with 500 (the kit's error
// handler logs them with method and url), and other errors logged with a stack in our code.
// Each carries type, message, the repository-relative TypeScript location of the first frame in
// the project's own code, and the stack.
import type { ServiceSnapshot, Snapshot } from '../collect';
import type { LoggedError } from '../log-tail';
import { relayOf } from '../requests';
import { formatLocation, ownLocation } from '../stack';
import type { FindingKind, SourceLocation } from '../types';
import { isDataFault } from './data-fault';
import { failureOfError } from './dependency';
import { isModuleNotFound } from './module-not-found';
import {
  type Candidate,
  errorEvidence,
  logsCommand,
  newErrors,
  occurrences,
  ownMessage,
  restartCommand,
  serviceNamed,
} from './shared';

/** How long after a start an error still counts as "at start". */
const START_WINDOW_MS = 5000;

function kindOf(error: LoggedError): FindingKind | undefined {
  if (error.origin === 'node') return 'uncaught-exception';
  if (error.origin !== 'pino' || error.level < 50) return undefined;
  if (/^uncaught exception\b/i.test(error.message)) return 'uncaught-exception';
  if (/^unhandled rejection\b/i.test(error.message)) return 'unhandled-rejection';
  if (error.method && error.url && error.stack) return 'request-error';
  if (error.stack) return 'logged-error';
  return undefined;
}

const LISTENING = /\blistening (on|at)\b/i;

/**
 * "At start" when the process that failed had not yet said it listens (the kit logs `<svc>
 * listening on ...` once up; pino lines carry the pid, which tells one run from the next). Node's
 * own report means the kit's handlers were not even installed: that is start-up too.
 */
function atStart(service: ServiceSnapshot, error: LoggedError): boolean {
  if (error.origin === 'node') return true;
  const pid = error.record?.pid;
  if (typeof pid === 'number') {
    return !service.lines.some(
      (line) =>
        line.record?.pid === pid && LISTENING.test(String(line.record.msg ?? '')) && line.time <= error.time,
    );
  }
  const starts = service.events.filter((event) => event.kind === 'starting').map((event) => event.time);
  const runStart = Math.max(0, ...starts.filter((start) => start <= error.time));
  return runStart > 0 && error.time - runStart <= START_WINDOW_MS;
}

interface Group {
  kind: FindingKind;
  errors: LoggedError[];
  location: SourceLocation | null;
  /** Its stack holds only a shared client reading another service's answer (no `where:`). */
  clientOnly?: SourceLocation;
}

const headline = (error: LoggedError) => {
  const type = error.type ?? 'Error';
  const message =
    ownMessage(error) ?? error.message.replace(/^(uncaught exception|unhandled rejection): /i, '');
  return `${type}: ${message}`;
};

/** An error's own message (its first stack line, or the logged message). */
const messageOf = (error: LoggedError) => ownMessage(error) ?? error.message;

/** A wrapper is logged this close to the error it wraps (the same failure, caught and rethrown). */
const WRAP_WINDOW_MS = 2000;

/** `outer` re-reports `inner`: its message contains inner's whole (and more), logged at about the same time. */
function wraps(outer: LoggedError, inner: LoggedError): boolean {
  const outside = messageOf(outer);
  const inside = messageOf(inner);
  return (
    outer !== inner &&
    inside.length >= 12 &&
    outside !== inside &&
    outside.includes(inside) &&
    Math.abs(outer.time - inner.time) <= WRAP_WINDOW_MS
  );
}

/**
 * A group whose every error wraps an error of another group (`purge-dead-jobs failed: <cause>`,
 * thrown where the cause was caught) takes that group's place in the code, and that group folds
 * into it: one finding, on the request that failed, at the line that failed (trial 6: the request's
 * finding came first with the scheduler's catch-and-rethrow line; the cause, at the call with the
 * wrong argument, came second as a logged error).
 */
function foldWrappers(groups: Map<string, Group>): void {
  for (const [key, outer] of groups) {
    for (const [innerKey, inner] of groups) {
      if (innerKey === key || !inner.location) continue;
      if (!outer.errors.every((error) => inner.errors.some((cause) => wraps(error, cause)))) continue;
      outer.location = inner.location;
      // The cause's group goes when each of its errors was re-reported; a cause that also failed on
      // its own (a timer's run, no request) stays a finding of its own.
      if (inner.errors.every((cause) => outer.errors.some((error) => wraps(error, cause))))
        groups.delete(innerKey);
      break;
    }
  }
}

export function detectExceptions(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  const root = snapshot.ecosystem.root;
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const groups = new Map<string, Group>();
    for (const error of newErrors(service)) {
      const kind = kindOf(error);
      // A relayed failure (the kit client's UpstreamError) is the upstream's: the dependency detector
      // names it and the root-cause pass follows it there. A fault in the data is the data's.
      const relay = relayOf(error);
      const relayed = relay !== undefined && serviceNamed(snapshot, relay.upstream) !== undefined;
      if (!kind || isModuleNotFound(error) || failureOfError(error) || relayed || isDataFault(error))
        continue;
      const own = error.stack ? ownLocation(error.stack, root, service.entry.folder) : null;
      // Another service's answer, as a shared package's HTTP client reports it (the kit's HttpError
      // for a 4xx it passes on), with no frame of this service's own code on the stack: a call nobody
      // awaited loses its caller's frames, and the client's line is where the answer was read, not
      // where the fix goes (trial 13: "fix packages/service-kit/src/http-client.ts:123" for a
      // worker's un-awaited send). No `where:` then; the finding's next leads with the service's
      // own newest change (upstream-change.ts).
      const clientOnly =
        own !== null &&
        (error.type === 'HttpError' || error.type === 'UpstreamError') &&
        !own.file.startsWith(`${service.entry.folder}/`);
      const location = clientOnly ? null : own;
      // Background errors (logged, not thrown) count only when they point at our code.
      if (kind === 'logged-error' && !location && !clientOnly) continue;
      // One finding per place in the code: two inputs can fail the same line with different messages
      // (trial 6: "reading 'trim'" of undefined and "trim is not a function" at one line were two
      // findings); without a place, the message tells failures apart.
      const key = location ? `${kind}|${formatLocation(location)}` : `${kind}|${headline(error)}|`;
      const group = groups.get(key) ?? { kind, errors: [], location };
      if (clientOnly && own) group.clientOnly = own;
      group.errors.push(error);
      groups.set(key, group);
    }
    foldWrappers(groups);
    for (const { kind, errors, location, clientOnly } of groups.values()) {
      const last = errors[errors.length - 1] as LoggedError;
      const where = location ? ` at ${formatLocation(location)}` : '';
      const requests = [...new Set(errors.flatMap((error) => error.requestId ?? []))];
      const count = occurrences(errors.map((error) => error.time));
      let summary: string;
      if (kind === 'request-error') {
        summary = `${name} answered 500 to ${last.method} ${last.url}: ${headline(last)}${where}${count}`;
      } else if (kind === 'logged-error') {
        summary = `${name} logged an error: ${headline(last)}${where}${count}`;
      } else {
        const what = kind === 'unhandled-rejection' ? 'an unhandled rejection' : 'an uncaught exception';
        const when = atStart(service, last) ? 'at start' : 'while running';
        summary = `${name} crashed ${when} on ${what}: ${headline(last)}${where}${count}`;
      }
      found.push({
        kind,
        service: name,
        // An error-level line whose stack points into this service's own code (not a shared
        // package) is a fault even outside a request: a job that gave up, a timer's failure.
        severity:
          kind !== 'logged-error' || location?.file.startsWith(`${service.entry.folder}/`)
            ? 'error'
            : 'warning',
        role: 'cause',
        summary,
        evidence: [errorEvidence(snapshot, name, last)],
        location,
        requests,
        times: errors.map((error) => error.time),
        next: location
          ? // The kit checks an answer after the handler returned: its stack is the route's
            // declaration (handler and schema), not a line that ran (trial 11's reader took it for
            // "the line that registers the route").
            /^ResponseContractError\b/.test(headline(last))
            ? `fix what the handler of the route declared at ${formatLocation(location)} returns, or its response schema there (${headline(last)}), then ${restartCommand(name)}`
            : `fix ${formatLocation(location)} (${headline(last)}), then ${restartCommand(name)}`
          : clientOnly
            ? `find the call in ${name}'s own code that made this request: its stack holds only the shared client that read the answer (${formatLocation(clientOnly)}), not the caller (a promise nobody awaited?); fix it, then ${restartCommand(name)}`
            : `read the stack: ${logsCommand(name)}; fix it, then ${restartCommand(name)}`,
      });
    }
  }
  return found;
}
