// The crash-loop detector as a table: recorded log tails and PM2 events in, the location and next
// step out. The kit's exit line (service-kit exit-trace.ts) gives the location of a silent exit.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import { detectCrashLoops } from '../src/diagnose/detectors/crash-loop';
import type { LogLine } from '../src/diagnose/log-tail';
import type { Pm2Event } from '../src/diagnose/pm2-log';

const ROOT = '/repo';
const T0 = Date.parse('2026-12-06T07:40:30.000Z');

/** A line as the kit writes it for process.exit(3) from services/orders/src/faults/shutdown.ts:4. */
const exitLine = (time: number): LogLine => {
  const record = {
    level: 60,
    time: new Date(time).toISOString(),
    service: 'orders',
    pid: 4242,
    exit: {
      code: 3,
      at: 'services/orders/src/faults/shutdown.ts:4:13',
      stack: [
        'process.exit(3)',
        '    at abandonWhenLicenceMissing (/repo/services/orders/src/faults/shutdown.ts:4:13)',
        '    at Object.build (/repo/services/orders/src/index.ts:72:41)',
        '    at runService (/repo/packages/service-kit/src/server.ts:91:25)',
      ].join('\n'),
    },
    msg: 'process.exit(3) called at services/orders/src/faults/shutdown.ts:4:13 without a logged reason',
  };
  return { time, stream: 'err', text: JSON.stringify(record), structured: true, record };
};

const plainErr = (time: number, text: string): LogLine => ({ time, stream: 'err', text, structured: false });

const crash = (time: number): Pm2Event => ({
  time,
  kind: 'exited',
  name: 'orders',
  pmId: 0,
  text: 'App [orders:0] exited with code [3] via signal [SIGINT]',
  exitCode: 3,
  crash: true,
});

function snapshot(lines: LogLine[], crashes: number[]): Snapshot {
  const service = {
    entry: { name: 'orders', folder: 'services/orders' },
    process: { status: 'errored', unstableRestarts: crashes.length, exitCode: 3 },
    state: 'errored',
    since: T0 - 60_000,
    lines,
    errors: [],
    events: crashes.map(crash),
  };
  return {
    ecosystem: { root: ROOT },
    now: T0 + 60_000,
    services: [service],
  } as unknown as Snapshot;
}

describe('crash loop: the location of a process.exit', () => {
  it.each([
    {
      case: 'a silent exit: the kit line names the call',
      lines: [exitLine(T0 + 100), exitLine(T0 + 5100), exitLine(T0 + 10_100)],
      location: { file: 'services/orders/src/faults/shutdown.ts', line: 4, column: 13 },
      next: /^fix services\/orders\/src\/faults\/shutdown\.ts:4:13 \(process\.exit\(3\) ends the process there/,
      summary:
        /exit code 3; PM2 gave up \(errored\); it calls process\.exit\(3\) at services\/orders\/src\/faults\/shutdown\.ts:4:13$/,
    },
    {
      case: 'two runs within a second: both exit lines are exits, neither is the last error',
      lines: [exitLine(T0 + 10_000), exitLine(T0 + 10_600)],
      location: { file: 'services/orders/src/faults/shutdown.ts', line: 4, column: 13 },
      next: /^fix services\/orders\/src\/faults\/shutdown\.ts:4:13 /,
      summary: /at services\/orders\/src\/faults\/shutdown\.ts:4:13$/,
    },
    {
      case: 'a message before the exit stays the last error',
      lines: [plainErr(T0 + 10_050, 'cannot open queue file /x/queue.db'), exitLine(T0 + 10_100)],
      location: { file: 'services/orders/src/faults/shutdown.ts', line: 4, column: 13 },
      next: /^fix services\/orders\/src\/faults\/shutdown\.ts:4:13 /,
      summary:
        /at services\/orders\/src\/faults\/shutdown\.ts:4:13; last error: cannot open queue file \/x\/queue\.db$/,
    },
    {
      case: 'no kit line (a service without the kit): no location, read the logs',
      lines: [plainErr(T0 + 10_050, 'giving up')],
      location: null,
      next: /^read the last run: pnpm devctl logs orders --err --lines 50; fix it, then/,
      summary: /exit code 3; PM2 gave up \(errored\); last error: giving up$/,
    },
    {
      case: "an earlier run's exit line is not the last run's cause",
      lines: [exitLine(T0 + 100), plainErr(T0 + 10_050, 'Error: cannot bind')],
      location: null,
      next: /^read the last run/,
      summary: /last error: Error: cannot bind$/,
    },
  ])('$case', ({ lines, location, next, summary }) => {
    const [finding, ...rest] = detectCrashLoops(snapshot(lines, [T0, T0 + 5000, T0 + 10_000]));
    expect(rest).toEqual([]);
    expect(finding?.kind).toBe('crash-loop');
    expect(finding?.location).toEqual(location);
    expect(finding?.next).toMatch(next);
    expect(finding?.summary).toMatch(summary);
  });
});
