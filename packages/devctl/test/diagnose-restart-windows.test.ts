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
      name: 'PM2 restarted it after it exited on its own: a crash',
      lines: CRASH,
      listening: [at('10:00:00', 600), at('10:05:07', 800)],
      expected: [
        { cause: 'start' },
        { cause: 'crash', from: at('10:05:07'), startedAt: at('10:05:07'), to: at('10:05:07', 800) },
      ],
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
    const windows = downWindows([], undefined, [at('12:00:01', 300)], at('12:00:00', 650));
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
    expect(downWindows(eventsOf(TRIAL9), TRIAL9_LAUNCH, [], at('21:57:54', 140))).toHaveLength(3);
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
