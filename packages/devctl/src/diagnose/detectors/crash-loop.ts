// A crash loop: PM2 restarting a service that keeps exiting, or PM2 having given up ("errored"
// after too many unstable restarts). Restarts the user asked for do not count: PM2's log marks
// them with "Stopping app" before the exit. When another finding names the cause (an exception, a
// config error, a held port, a missing module), this one gives way and its figures join that one.
// A process that ends itself with process.exit(N) and no word: the kit logs the caller's stack
// (service-kit exit-trace.ts), and the loop's location is that call, with `next: fix <file:line>`.
import type { ServiceSnapshot, Snapshot } from '../collect';
import { isInformational, type LogLine } from '../log-tail';
import type { Pm2Event } from '../pm2-log';
import { formatLocation, ownLocation } from '../stack';
import {
  type Candidate,
  clock,
  iso,
  lineEvidence,
  logsCommand,
  pm2Evidence,
  restartCommand,
  systemEvidence,
  trimStack,
} from './shared';

/** Crashes within this window count towards a loop. */
const WINDOW_MS = 10 * 60 * 1000;
const LOOP_CRASHES = 3;

function crashesSince(service: ServiceSnapshot, since: number): Pm2Event[] {
  const from = Math.floor(since / 1000) * 1000;
  return service.events.filter((event) => event.kind === 'exited' && event.crash && event.time >= from);
}

/** The last lines the service wrote to stderr before its last exit (its "last error"). */
function lastErrorLines(service: ServiceSnapshot, before: number): LogLine[] {
  const lines = service.lines.filter(
    (line) => line.stream === 'err' && line.time <= before + 999 && !isInformational(line.text),
  );
  const last = lines[lines.length - 1];
  if (!last) return [];
  // The burst written around the last error (a stack trace is several lines within a second).
  return lines.filter((line) => last.time - line.time <= 1000).slice(-12);
}

/** The kit's line for a non-zero process.exit that nothing explained: `{"exit":{code,at,stack}}`. */
interface ExitCall {
  line: LogLine;
  code: number;
  stack: string;
  message: string;
}

const isExitLine = (line: LogLine) => {
  const exit = line.record?.exit as { code?: unknown; stack?: unknown } | undefined;
  return typeof exit?.code === 'number' && typeof exit.stack === 'string';
};

function exitCallIn(lines: LogLine[]): ExitCall | undefined {
  const line = lines.findLast(isExitLine);
  if (!line) return undefined;
  const exit = line.record?.exit as { code: number; stack: string };
  const message = typeof line.record?.msg === 'string' ? line.record.msg : `process.exit(${exit.code})`;
  return { line, code: exit.code, stack: exit.stack, message };
}

export function detectCrashLoops(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const process = service.process;
    if (!process) continue;
    const since = Math.max(service.since ?? 0, snapshot.now - WINDOW_MS);
    const crashes = crashesSince(service, since);
    const gaveUp = service.events.some(
      (event) => event.kind === 'gave-up' && event.time >= Math.floor(since / 1000) * 1000,
    );
    const errored = service.state === 'errored';
    const looping = crashes.length >= LOOP_CRASHES || (service.state === 'crash-loop' && crashes.length >= 2);
    // Without PM2's log, its counters still tell a loop.
    const unstable = crashes.length === 0 && process.unstableRestarts >= LOOP_CRASHES;
    if (!errored && !gaveUp && !looping && !unstable) continue;

    const codes = [...new Set(crashes.map((event) => event.exitCode ?? event.signal))].filter(
      (c) => c !== undefined,
    );
    const count = crashes.length || process.unstableRestarts;
    const exitText =
      codes.length > 0
        ? `exit code${codes.length > 1 ? 's' : ''} ${codes.join(', ')}`
        : process.exitCode !== undefined
          ? `exit code ${process.exitCode}`
          : 'no exit code';
    const first = crashes[0];
    const span = first ? ` since ${clock(first.time)}` : '';
    const stateText =
      errored || gaveUp
        ? '; PM2 gave up (errored)'
        : service.state === 'crash-loop'
          ? '; PM2 restarts it again after a back-off'
          : '';
    const detail = `${count} crash${count === 1 ? '' : 'es'}${span}, ${exitText}${stateText}`;
    const lastExit = crashes[crashes.length - 1];
    const burst = lastErrorLines(service, lastExit?.time ?? snapshot.now);
    const exitCall = exitCallIn(burst);
    // Fast restarts put several runs in one burst: each run's exit line is the exit, not an error.
    const errorLines = burst.filter((line) => !isExitLine(line));
    const stackText = errorLines.map((line) => line.text).join('\n');
    const root = snapshot.ecosystem.root;
    const location =
      (exitCall ? ownLocation(exitCall.stack, root, service.entry.folder) : null) ??
      ownLocation(stackText, root, service.entry.folder);
    const lastError =
      errorLines.find((line) => /error|fail|cannot|refused|fatal/i.test(line.text)) ??
      errorLines[errorLines.length - 1];
    const evidence = [
      ...crashes.slice(-3).map((event) => pm2Evidence(name, event)),
      ...service.events
        .filter((event) => event.kind === 'gave-up')
        .slice(-1)
        .map((event) => pm2Evidence(name, event)),
      ...(errorLines.length > 0
        ? [lineEvidence(snapshot, name, { ...(errorLines[0] as LogLine), text: stackText })]
        : []),
      ...(exitCall
        ? [
            {
              time: iso(exitCall.line.time),
              service: name,
              stream: exitCall.line.stream,
              text: `FATAL ${exitCall.message}\n${trimStack(exitCall.stack, root)}`,
            },
          ]
        : []),
    ];
    if (evidence.length === 0) {
      evidence.push(
        systemEvidence(
          snapshot,
          name,
          `PM2: status ${process.status}, ${process.unstableRestarts} unstable restarts, exit code ${process.exitCode ?? 'none'}`,
        ),
      );
    }
    const exitCallText =
      exitCall && location ? `; it calls process.exit(${exitCall.code}) at ${formatLocation(location)}` : '';
    found.push({
      kind: 'crash-loop',
      service: name,
      severity: 'error',
      role: 'state',
      detail: `crash loop: ${detail}`,
      summary: `${name} is crash-looping: ${detail}${exitCallText}${lastError ? `; last error: ${lastError.text.trim().slice(0, 160)}` : ''}`,
      evidence,
      location,
      next:
        exitCall && location
          ? `fix ${formatLocation(location)} (process.exit(${exitCall.code}) ends the process there; the last run: ${logsCommand(name)}), then ${restartCommand(name)}`
          : `${location ? `look at ${location.file}:${location.line}; ` : ''}read the last run: ${logsCommand(name)}; fix it, then ${restartCommand(name)}`,
    });
  }
  return found;
}
