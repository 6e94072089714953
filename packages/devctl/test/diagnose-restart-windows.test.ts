// When a service was down for a (re)start, as a table: PM2's log as the daemon wrote it (read by
// readPm2Events from a temporary PM2_HOME), devctl's record of its last start --wait, its "listening"
// lines -> the windows; and which failure times fall in one. The first rows are trial 9's pm2.log:
// worker-service logged ECONNREFUSED at 21:54:30.175 while data-service restarted, and a diagnose
// minutes later (data-service's "listening" line gone from its tail) warned of it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { describe, expect, it } from 'vitest';
import { type Pm2Event, readPm2Events } from '../src/diagnose/pm2-log';
import {
  askedWindowAt,
  BOOT_ALLOWANCE_MS,
  type DownWindow,
  describeRestarts,
  downWindows,
  type LaunchRecord,
  windowAt,
} from '../src/diagnose/restart-windows';

/** PM2's prefix times are local (no zone): parsed the same way readPm2Events does. */
const at = (clock: string, ms = 0) => new Date(`2026-12-06T${clock}`).getTime() + ms;

/** The events of `name` in a pm2.log holding `lines` (after the daemon's banner). */
function eventsOf(lines: string[], name = 'data-service'): Pm2Event[] {
  const home = tempDir('devctl-windows-');
  try {
    const banner = [
      '2026-12-06T21:53:25: PM2 log: ===============================================================================',
      '2026-12-06T21:53:25: PM2 log: --- New PM2 Daemon started ----------------------------------------------------',
    ];
    writeFileSync(join(home.path, 'pm2.log'), `${[...banner, ...lines].join('\n')}\n`);
    const events = [...readPm2Events(home.path).entries()].find(([key]) => key.startsWith(`${name}:`));
    return events?.[1] ?? [];
  } finally {
    home.cleanup();
  }
}

const log = (clock: string, text: string) => `2026-12-06T${clock}: PM2 log: ${text}`;

// trial 9, data-service: its first start, `restart data-service` at 21:54:29, another at 21:57:53.
const TRIAL9 = [
  log('21:53:25', 'App [data-service:0] starting in -fork mode-'),
  log('21:53:26', 'App [data-service:0] online'),
  log('21:54:29', 'Stopping app:data-service id:0'),
  log('21:54:29', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
  log('21:54:29', 'App [data-service:0] will restart in 100ms'),
  log('21:54:30', 'pid=11864 msg=process tree killed (1 pids)'),
  log('21:54:30', 'App [data-service:0] starting in -fork mode-'),
  log('21:54:30', 'App [data-service:0] online'),
  log('21:57:53', 'Stopping app:data-service id:0'),
  log('21:57:54', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
  log('21:57:54', 'App [data-service:0] will restart in 100ms'),
  log('21:57:54', 'pid=12801 msg=process tree killed (1 pids)'),
  log('21:57:54', 'App [data-service:0] starting in -fork mode-'),
  log('21:57:54', 'App [data-service:0] online'),
];
// devctl's startup.json after `restart data-service --wait` at 21:57:53.
const TRIAL9_LAUNCH: LaunchRecord = { launchedAt: at('21:57:54', 140), healthyAt: at('21:57:54', 737) };

const CRASH = [
  log('10:00:00', 'App [data-service:0] starting in -fork mode-'),
  log('10:00:00', 'App [data-service:0] online'),
  log('10:05:07', 'App [data-service:0] exited with code [1] via signal [SIGINT]'),
  log('10:05:07', 'App [data-service:0] will restart in 100ms'),
  log('10:05:07', 'App [data-service:0] starting in -fork mode-'),
  log('10:05:07', 'App [data-service:0] online'),
];

// A live run of diagnose-restart-noise.test.ts: inventory killed with SIGKILL (by pid, as the OOM
// killer does: nothing in its own log) and restarted by PM2. PM2 reports the kill with code 0.
const KILLED = [
  log('22:22:21', 'App [data-service:0] starting in -fork mode-'),
  log('22:22:21', 'App [data-service:0] online'),
  log('22:22:25', 'App [data-service:0] exited with code [0] via signal [SIGKILL]'),
  log('22:22:25', 'App [data-service:0] will restart in 100ms'),
  log('22:22:25', 'App [data-service:0] starting in -fork mode-'),
  log('22:22:25', 'App [data-service:0] online'),
];

// Over max_memory_restart: PM2's worker reloads it (God.reloadProcessId), a stop nobody asked for.
const MEMORY = [
  log('10:00:00', 'App [data-service:0] starting in -fork mode-'),
  log('10:00:00', 'App [data-service:0] online'),
  log(
    '10:02:00',
    '[PM2][WORKER] Process 0 restarted because it exceeds --max-memory-restart value (current_memory=220000000 max_memory_limit=209715200 [octets])',
  ),
  log('10:02:00', 'Stopping app:data-service id:0'),
  log('10:02:00', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
  log('10:02:01', 'App [data-service:0] starting in -fork mode-'),
  log('10:02:01', 'App [data-service:0] online'),
];

const STOP_THEN_START = [
  log('10:00:00', 'App [data-service:0] starting in -fork mode-'),
  log('10:01:00', 'Stopping app:data-service id:0'),
  log('10:01:00', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
  log('10:03:30', 'App [data-service:0] starting in -fork mode-'),
  log('10:03:30', 'App [data-service:0] online'),
];

const STOPPED = [
  log('10:00:00', 'App [data-service:0] starting in -fork mode-'),
  log('10:01:00', 'Stopping app:data-service id:0'),
  log('10:01:00', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
];

describe('downWindows', () => {
  const rows: {
    name: string;
    lines: string[];
    launch?: LaunchRecord;
    listening: number[];
    expected: Partial<DownWindow>[];
  }[] = [
    {
      name: "trial 9, both 'listening' lines in the tail: each restart ends when it listened",
      lines: TRIAL9,
      listening: [at('21:53:26', 726), at('21:54:30', 711), at('21:57:54', 672)],
      expected: [
        { cause: 'start', from: at('21:53:25'), to: at('21:53:26', 726), answered: 'listening' },
        { cause: 'restart', from: at('21:54:29'), to: at('21:54:30', 711), answered: 'listening' },
        // devctl's record wins: it saw /health answer.
        { cause: 'restart', from: at('21:57:53'), to: at('21:57:54', 737), answered: 'devctl' },
      ],
      launch: TRIAL9_LAUNCH,
    },
    {
      name: "trial 9 minutes later: the 'listening' lines have left the tail, no record of the first restart",
      lines: TRIAL9,
      listening: [],
      expected: [
        { cause: 'start', to: at('21:53:25') + 1000 + BOOT_ALLOWANCE_MS, answered: 'assumed' },
        {
          cause: 'restart',
          from: at('21:54:29'),
          to: at('21:54:30') + 1000 + BOOT_ALLOWANCE_MS,
          answered: 'assumed',
        },
        { cause: 'restart', from: at('21:57:53'), to: at('21:57:54', 737), answered: 'devctl' },
      ],
      launch: TRIAL9_LAUNCH,
    },
    {
      name: 'a record of another launch (not this start) is not used',
      lines: TRIAL9.slice(0, 8),
      listening: [],
      expected: [{ cause: 'start' }, { cause: 'restart', answered: 'assumed' }],
      launch: TRIAL9_LAUNCH,
    },
    {
      // A whole pnpm test: the stack started, then `restart --wait` a second later. Both starts are
      // within the record's match; the first took the restart's answer as its end and swallowed it.
      name: 'a start, then a restart a second later: the record is the restart’s, the nearer start',
      lines: [
        log('21:49:04', 'App [data-service:0] starting in -fork mode-'),
        log('21:49:04', 'App [data-service:0] online'),
        log('21:49:04', 'Stopping app:data-service id:0'),
        log('21:49:04', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
        log('21:49:05', 'App [data-service:0] starting in -fork mode-'),
        log('21:49:05', 'App [data-service:0] online'),
      ],
      listening: [],
      launch: { launchedAt: at('21:49:05', 100), healthyAt: at('21:49:05', 700) },
      expected: [
        { cause: 'start', answered: 'assumed' },
        { cause: 'restart', from: at('21:49:04'), to: at('21:49:05', 700), answered: 'devctl' },
      ],
    },
    {
      name: 'PM2 restarted it after it exited on its own: a crash',
      lines: CRASH,
      listening: [at('10:00:00', 600), at('10:05:07', 800)],
      expected: [
        { cause: 'start' },
        { cause: 'crash', from: at('10:05:07'), startedAt: at('10:05:07'), to: at('10:05:07', 800) },
      ],
    },
    {
      name: 'killed with SIGKILL (nothing logged) and restarted by PM2: a crash',
      lines: KILLED,
      listening: [at('22:22:21', 700), at('22:22:25', 900)],
      expected: [{ cause: 'start' }, { cause: 'crash', from: at('22:22:25'), to: at('22:22:25', 900) }],
    },
    {
      name: 'reloaded by PM2 over its memory limit: a crash (no one asked for it)',
      lines: MEMORY,
      listening: [],
      expected: [{ cause: 'start' }, { cause: 'crash', from: at('10:02:00'), startedAt: at('10:02:01') }],
    },
    {
      name: 'stopped, then started minutes later: a stop',
      lines: STOP_THEN_START,
      listening: [at('10:03:31', 100)],
      expected: [
        // The 'listening' line is the later start's: the first one's end is assumed.
        { cause: 'start', to: at('10:00:00') + 1000 + BOOT_ALLOWANCE_MS, answered: 'assumed' },
        { cause: 'stop', from: at('10:01:00'), startedAt: at('10:03:30'), to: at('10:03:31', 100) },
      ],
    },
    {
      name: 'stopped and not started again: no window (the service is down, a finding of its own)',
      lines: STOPPED,
      listening: [at('10:00:00', 500)],
      expected: [{ cause: 'start', to: at('10:00:00', 500) }],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const windows = downWindows(eventsOf(row.lines), row.launch, row.listening);
      expect(windows).toHaveLength(row.expected.length);
      row.expected.forEach((expected, index) => {
        expect(windows[index]).toMatchObject(expected);
      });
    });
  }

  it("the running process's start counts when PM2's log does not hold it", () => {
    const started = at('12:00:00', 650);
    const windows = downWindows([], undefined, [at('12:00:01', 300)], {
      startedAt: started,
      createdAt: started - 2,
    });
    expect(windows).toEqual([
      {
        cause: 'start',
        from: at('12:00:00'),
        startedAt: at('12:00:00'),
        to: at('12:00:01', 300),
        answered: 'listening',
      },
    ]);
    // ...and once only when it does.
    expect(
      downWindows(eventsOf(TRIAL9), TRIAL9_LAUNCH, [], {
        startedAt: at('21:57:54', 140),
        createdAt: at('21:57:54', 139),
      }),
    ).toHaveLength(3);
  });

  it("...as PM2's restart after a crash when its created_at is older (PM2 resets it only at a start asked for)", () => {
    const started = at('12:00:00', 650);
    const [window] = downWindows([], undefined, [], { startedAt: started, createdAt: at('11:40:00') });
    expect(window).toMatchObject({ cause: 'crash', startedAt: at('12:00:00') });
    // Without created_at nothing says it was asked for.
    expect(downWindows([], undefined, [], { startedAt: started })[0]).toMatchObject({ cause: 'crash' });
  });

  it('an assumed end never outlasts the next going down', () => {
    const lines = [
      log('10:00:00', 'App [data-service:0] starting in -fork mode-'),
      log('10:00:01', 'Stopping app:data-service id:0'),
      log('10:00:01', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
      log('10:00:02', 'App [data-service:0] starting in -fork mode-'),
    ];
    const [first] = downWindows(eventsOf(lines), undefined, []);
    expect(first).toMatchObject({ cause: 'start', to: at('10:00:01') });
  });
});

describe('windowAt', () => {
  const windows = downWindows(eventsOf(TRIAL9), TRIAL9_LAUNCH, [at('21:54:30', 711)]);
  const rows: { name: string; time: number; precise: boolean; cause?: DownWindow['cause']; from?: number }[] =
    [
      {
        name: "trial 9's ECONNREFUSED, after the new start, before it listened",
        time: at('21:54:30', 175),
        precise: true,
        cause: 'restart',
        from: at('21:54:29'),
      },
      {
        name: 'between the stop and the new start',
        time: at('21:54:29', 950),
        precise: true,
        cause: 'restart',
      },
      {
        name: 'logged a moment after it listened (a caller logs after it failed)',
        time: at('21:54:31', 100),
        precise: true,
        cause: 'restart',
      },
      { name: 'seconds after it listened: not the restart', time: at('21:54:33'), precise: true },
      { name: 'before it went down: not the restart', time: at('21:54:28', 900), precise: true },
      // A line with PM2's prefix only: 21:54:28 could be any moment of that second, all before the stop.
      { name: 'a second-precision time wholly before the stop', time: at('21:54:28'), precise: false },
      {
        name: 'a second-precision time in the second of the stop',
        time: at('21:54:29'),
        precise: false,
        cause: 'restart',
      },
      {
        name: 'during the restart devctl watched, until /health answered',
        time: at('21:57:54', 700),
        precise: true,
        cause: 'restart',
        from: at('21:57:53'),
      },
      { name: 'after the /health devctl saw, past the margin', time: at('21:57:55', 400), precise: true },
    ];
  for (const row of rows) {
    it(row.name, () => {
      const window = windowAt(windows, row.time, row.precise);
      if (!row.cause) expect(window).toBeUndefined();
      else
        expect(window).toMatchObject({
          cause: row.cause,
          ...(row.from === undefined ? {} : { from: row.from }),
        });
    });
  }

  it('describes each kind of window for the checked line, each service named once', () => {
    const [start, restart] = windows as [DownWindow, DownWindow];
    const [, crash] = downWindows(eventsOf(CRASH), undefined, []) as [DownWindow, DownWindow];
    const [, stop] = downWindows(eventsOf(STOP_THEN_START), undefined, []) as [DownWindow, DownWindow];
    const rows: [{ service: string; window: DownWindow }[], string][] = [
      [[{ service: 'data-service', window: restart }], 'data-service restarted at 21:54:29'],
      [
        [
          { service: 'data-service', window: restart },
          { service: 'data-service', window: start },
        ],
        'data-service started at 21:53:25 and restarted at 21:54:29',
      ],
      [[{ service: 'data-service', window: crash }], 'data-service restarted after a crash at 10:05:07'],
      [
        [
          { service: 'data-service', window: stop },
          { service: 'email-service', window: crash },
        ],
        'data-service was stopped (10:01:00-10:03:30); email-service restarted after a crash at 10:05:07',
      ],
    ];
    for (const [met, text] of rows) expect(describeRestarts(met)).toBe(text);
  });
});

// Only a (re)start someone asked for excuses a caller's failures: after a crash (a SIGKILL that
// logged nothing, an exit, a memory reload) the failures are the evidence of that crash.
describe('askedWindowAt', () => {
  const rows: { name: string; lines: string[]; time: number; cause?: DownWindow['cause'] }[] = [
    { name: 'during a restart asked for', lines: TRIAL9, time: at('21:54:30', 175), cause: 'restart' },
    { name: 'during the first start', lines: TRIAL9, time: at('21:53:25', 500), cause: 'start' },
    { name: 'during a stop, then a start', lines: STOP_THEN_START, time: at('10:02:00'), cause: 'stop' },
    { name: "during PM2's restart after a SIGKILL: not excused", lines: KILLED, time: at('22:22:25', 400) },
    { name: "during PM2's restart after an exit: not excused", lines: CRASH, time: at('10:05:07', 300) },
    { name: 'during a reload over the memory limit: not excused', lines: MEMORY, time: at('10:02:00', 600) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const windows = downWindows(eventsOf(row.lines), undefined, []);
      // The time falls in a window either way: only its cause decides.
      expect(windowAt(windows, row.time, true)).toBeDefined();
      const window = askedWindowAt(windows, row.time, true);
      if (row.cause) expect(window).toMatchObject({ cause: row.cause });
      else expect(window).toBeUndefined();
    });
  }

  it('a failure where an asked-for window touches a crash is not excused', () => {
    // Restarted by devctl at 10:00:05, crashed on its own at 10:00:06 (before any 'listening' line).
    const lines = [
      log('10:00:00', 'App [data-service:0] starting in -fork mode-'),
      log('10:00:05', 'Stopping app:data-service id:0'),
      log('10:00:05', 'App [data-service:0] exited with code [0] via signal [SIGINT]'),
      log('10:00:05', 'App [data-service:0] starting in -fork mode-'),
      log('10:00:06', 'App [data-service:0] exited with code [1] via signal [SIGINT]'),
      log('10:00:06', 'App [data-service:0] will restart in 100ms'),
      log('10:00:06', 'App [data-service:0] starting in -fork mode-'),
    ];
    const windows = downWindows(eventsOf(lines), undefined, []);
    expect(windows.map((w) => w.cause)).toEqual(['start', 'restart', 'crash']);
    expect(askedWindowAt(windows, at('10:00:05', 500), true)).toMatchObject({ cause: 'restart' });
    // 10:00:06.2: the restart's assumed end (10:00:06) plus the log margin, and the crash's window.
    expect(askedWindowAt(windows, at('10:00:06', 200), true)).toBeUndefined();
  });
});
