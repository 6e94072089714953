// What counts as steady memory growth, when it is an error, and when diagnose watches memory at
// all: tables of recorded sample series (MiB at seconds).
import { describe, expect, it } from 'vitest';
import {
  looksLikeGrowing,
  type MemorySample,
  type ServiceSnapshot,
  type Snapshot,
  watchedEnough,
} from '../src/diagnose/collect';
import { aboutDuration, deadlineOf, detectMemory, steadyGrowth } from '../src/diagnose/detectors/memory';

const MiB = 1024 * 1024;
const series = (points: [seconds: number, mib: number][]) =>
  points.map(([seconds, mib]) => ({ time: 1_000_000 + seconds * 1000, bytes: mib * MiB }));

describe('steadyGrowth', () => {
  it.each([
    [
      'a leak sampled evenly',
      [
        [0, 217],
        [0.25, 220],
        [0.5, 225],
        [0.75, 230],
        [1, 234],
        [1.25, 240],
        [1.5, 245],
        [1.75, 251],
      ],
      true,
    ],
    [
      'a leak after a long first interval',
      [
        [0, 468],
        [1.2, 493],
        [1.45, 499],
        [1.7, 505],
        [1.95, 510],
        [2.2, 515],
        [2.45, 522],
        [2.7, 528],
      ],
      true,
    ],
    [
      'warm-up that levels off (auth-service at start)',
      [
        [0, 81],
        [0.5, 89],
        [0.75, 92],
        [1, 100],
        [1.25, 109],
        [1.5, 112],
        [1.75, 112],
        [2, 112],
      ],
      false,
    ],
    [
      'flat',
      [
        [0, 80],
        [0.25, 80],
        [0.5, 80.1],
        [0.75, 80],
        [1, 80.2],
        [1.25, 80.1],
        [1.5, 80],
      ],
      false,
    ],
    [
      'a large fall (memory given back)',
      [
        [0, 100],
        [0.25, 110],
        [0.5, 120],
        [0.75, 90],
        [1, 100],
        [1.25, 110],
        [1.5, 125],
      ],
      false,
    ],
    [
      'too little growth',
      [
        [0, 80],
        [0.25, 81],
        [0.5, 82],
        [0.75, 83],
        [1, 84],
        [1.25, 85],
        [1.5, 86],
      ],
      false,
    ],
    [
      'a leak in a large process: under 2% of it, but rising at every look',
      [
        [0, 3314],
        [0.3, 3319],
        [0.45, 3322],
        [0.6, 3325],
        [0.75, 3329],
        [0.9, 3331],
        [1.05, 3335],
        [1.2, 3338],
        [1.35, 3339],
        [1.5, 3342],
        [1.65, 3345],
      ],
      true,
    ],
    [
      'the same growth in a large process that rose at only half the looks',
      [
        [0, 3314],
        [0.25, 3322],
        [0.5, 3322],
        [0.75, 3330],
        [1, 3330],
        [1.25, 3338],
        [1.5, 3338],
      ],
      false,
    ],
    [
      'too short a window',
      [
        [0, 80],
        [0.1, 90],
        [0.2, 100],
        [0.3, 110],
      ],
      false,
    ],
  ] as [string, [number, number][], boolean][])('%s -> %s', (_name, points, expected) => {
    expect(steadyGrowth(series(points)) !== undefined).toBe(expected);
  });

  it('gives the figures', () => {
    const growth = steadyGrowth(
      series([
        [0, 200],
        [0.5, 210],
        [1, 220],
        [1.5, 230],
        [2, 240],
      ]),
    );
    expect(growth).toEqual({ from: 200 * MiB, to: 240 * MiB, seconds: 2, perSecond: 20 * MiB });
  });
});

// The rule on recorded samples: growth that reaches max_memory_restart (or the machine's available
// memory) within minutes is an error with its rate and deadline; slower growth is a warning; a
// restart PM2 made for memory is an error whatever the samples show.
describe('detectMemory', () => {
  const now = 1_000_000 + 60_000;
  const snapshotOf = (
    memory: MemorySample[],
    options: {
      limit?: number;
      available?: number;
      restarts?: number[];
      startedAt?: number;
      /** The earlier run's look; by default one 10 s before, 40 MiB lower (growth confirmed). */
      earlier?: MemorySample | null;
    } = {},
  ) =>
    ({
      now,
      availableMemory: options.available,
      services: [
        {
          entry: { name: 'form-service', folder: 'services/form' },
          process: { pid: 4242, maxMemoryRestart: options.limit, startedAt: options.startedAt },
          memory,
          memoryEarlier:
            options.earlier === null
              ? undefined
              : (options.earlier ??
                (memory[0]
                  ? { time: memory[0].time - 10_000, bytes: memory[0].bytes - 40 * MiB }
                  : undefined)),
          events: (options.restarts ?? []).map((time) => ({
            kind: 'memory-restart',
            time,
            text: 'exceeds --max-memory-restart',
            limit: options.limit,
          })),
        },
      ],
    }) as unknown as Snapshot;
  // A leak at ~39 MiB/s, sampled as collect does (an early look, then steps of 150 ms).
  const fastLeak = series([
    [0, 180],
    [0.2, 188],
    [0.35, 194],
    [0.5, 200],
    [0.65, 206],
    [0.8, 211],
    [0.95, 217],
  ]);
  // A slow one: ~10 MiB/s.
  const slowLeak = series([
    [0, 100],
    [0.3, 103],
    [0.6, 106],
    [0.9, 109],
    [1.2, 112],
  ]);

  it.each([
    [
      'a fast leak under a 512M limit: error, rate and seconds',
      fastLeak,
      { limit: 512 * MiB, available: 20_000 * MiB },
      'error',
      /grows steadily: 180 MiB -> 217 MiB in 0\.9 s \(\+39 MiB\/s\), reaches its max_memory_restart limit \(512 MiB\) in about 8 s$/,
    ],
    [
      'a slow leak under a 4G limit: minutes away, still an error',
      slowLeak,
      { limit: 4096 * MiB, available: 20_000 * MiB },
      'error',
      /\(\+10 MiB\/s\), reaches its max_memory_restart limit \(4096 MiB\) in about 7 min$/,
    ],
    [
      'the same slow leak with a 16G limit: an hour or more away, a warning',
      slowLeak,
      { limit: 16_384 * MiB, available: 20_000 * MiB },
      'warning',
      /\(\+10 MiB\/s\), reaches its max_memory_restart limit \(16384 MiB\) in about \d+ min$/,
    ],
    [
      'no max_memory_restart: the machine memory is the limit',
      fastLeak,
      { available: 3_000 * MiB },
      'error',
      /\(\+39 MiB\/s\), takes the machine's available memory \(3000 MiB\) in about 77 s$/,
    ],
    [
      'already past the limit (PM2 checks every 30 s)',
      fastLeak,
      { limit: 200 * MiB },
      'error',
      /reaches its max_memory_restart limit \(200 MiB\) in about 1 s \(already past it: PM2 restarts it at its next check\)$/,
    ],
    [
      'neither limit known: the rate alone, a warning',
      fastLeak,
      {},
      'warning',
      /grows steadily: 180 MiB -> 217 MiB in 0\.9 s \(\+39 MiB\/s\)$/,
    ],
    [
      'restarted by PM2 for memory, flat now: an error that says so',
      series([
        [0, 90],
        [0.5, 90],
        [1, 90],
        [1.5, 90],
      ]),
      { limit: 150 * MiB, restarts: [now - 20_000] },
      'error',
      /^form-service: PM2 restarted it 1 time for going past max_memory_restart \(150 MiB\), last at [\d:]+$/,
    ],
  ] as [
    string,
    MemorySample[],
    { limit?: number; available?: number; restarts?: number[] },
    string,
    RegExp,
  ][])('%s', (_name, memory, options, severity, summary) => {
    const [finding, ...others] = detectMemory(snapshotOf(memory, options));
    expect(others).toEqual([]);
    expect(finding?.severity).toBe(severity);
    expect(finding?.summary).toMatch(summary);
  });

  it('growth seen in one run only (no earlier look, or none lower): a warning that asks to confirm', () => {
    // Seen on the real stack: an idle email-service, 61 -> 90 MiB in a second, then back to 65.
    for (const earlier of [null, { time: 1_000_000 - 10_000, bytes: 180 * MiB }]) {
      const [finding] = detectMemory(snapshotOf(fastLeak, { limit: 512 * MiB, earlier }));
      expect(finding?.severity).toBe('warning');
      expect(finding?.summary).toMatch(/seen in this look only.*run diagnose again to confirm\)$/);
    }
    // Past 60% of its limit needs no second look.
    const [near] = detectMemory(snapshotOf(fastLeak, { limit: 300 * MiB, earlier: null }));
    expect(near?.severity).toBe('error');
  });

  it('growth alone in a process younger than 30 s is not judged; older, an error', () => {
    // Seen on the real stack: a service 20 s after pm2:start went 58 -> 85 MiB in 1.2 s, then flat;
    // and in CI a healthy fixture service 79 -> 94 MiB in 1.0 s at 8 s of age.
    expect(detectMemory(snapshotOf(fastLeak, { limit: 512 * MiB, startedAt: now - 20_000 }))).toEqual([]);
    const older = detectMemory(snapshotOf(fastLeak, { limit: 512 * MiB, startedAt: now - 40_000 }));
    expect(older[0]?.severity).toBe('error');
    // Young but already past 60% of its limit: PM2 kills it soon, whatever its age.
    const near = detectMemory(snapshotOf(fastLeak, { limit: 300 * MiB, startedAt: now - 20_000 }));
    expect(near[0]?.severity).toBe('error');
    // A restart for memory is an error at any age.
    const restarted = detectMemory(
      snapshotOf(fastLeak, { limit: 512 * MiB, startedAt: now - 5_000, restarts: [now - 10_000] }),
    );
    expect(restarted[0]?.severity).toBe('error');
  });

  it('start-up growth that levels off gives no finding, whatever the limit', () => {
    const warmUp = series([
      [0, 81],
      [0.5, 89],
      [0.75, 92],
      [1, 100],
      [1.25, 109],
      [1.5, 112],
      [1.75, 112],
      [2, 112],
    ]);
    expect(detectMemory(snapshotOf(warmUp, { limit: 128 * MiB, available: 100 * MiB }))).toEqual([]);
  });
});

describe('deadlineOf and aboutDuration', () => {
  const growth = { from: 100 * MiB, to: 112 * MiB, seconds: 1, perSecond: 12 * MiB };
  it.each([
    ['the nearer of the two', 512 * MiB, 200 * MiB, { limit: 'available memory', seconds: 200 / 12 }],
    [
      'max_memory_restart when nearer',
      512 * MiB,
      20_000 * MiB,
      { limit: 'max_memory_restart', seconds: 400 / 12 },
    ],
    ['none known', undefined, undefined, undefined],
  ] as const)('%s', (_name, limit, available, expected) => {
    const deadline = deadlineOf(growth, limit, available);
    if (!expected) return expect(deadline).toBeUndefined();
    expect(deadline?.limit).toBe(expected.limit);
    expect(deadline?.seconds).toBeCloseTo(expected.seconds, 5);
  });

  it.each([
    [0.2, 'about 1 s'],
    [9.4, 'about 9 s'],
    [89, 'about 89 s'],
    [400, 'about 7 min'],
    [5400, 'about 2 h'],
  ])('%s s -> %s', (seconds, text) => {
    expect(aboutDuration(seconds)).toBe(text);
  });
});

// When collect watches memory longer, and when it stops: the cost of a run without a leak.
describe('looksLikeGrowing', () => {
  const serviceWith = (memory: MemorySample[], extra: { limit?: number; restartAt?: number } = {}) =>
    ({
      memory,
      since: 1_000_000,
      process: { pid: 1, maxMemoryRestart: extra.limit },
      events: extra.restartAt ? [{ kind: 'memory-restart', time: extra.restartAt }] : [],
    }) as unknown as ServiceSnapshot;
  it.each([
    [
      'two looks 0.1 s apart, +3 MiB (a fast leak)',
      series([
        [0, 100],
        [0.1, 103],
      ]),
      undefined,
      {},
      true,
    ],
    [
      'two looks 0.1 s apart, +0.5 MiB (allocation noise)',
      series([
        [0, 100],
        [0.1, 100.5],
      ]),
      undefined,
      {},
      false,
    ],
    [
      'flat',
      series([
        [0, 100],
        [0.1, 100],
      ]),
      undefined,
      {},
      false,
    ],
    [
      'flat now, +60 MiB since the last run 10 s ago',
      series([
        [10, 160],
        [10.1, 160],
      ]),
      { time: 1_000_000, bytes: 100 * MiB },
      {},
      true,
    ],
    [
      '+6 MiB since the last run 60 s ago (a heap settling)',
      series([
        [60, 106],
        [60.1, 106],
      ]),
      { time: 1_000_000, bytes: 100 * MiB },
      {},
      false,
    ],
    [
      'past 60% of max_memory_restart',
      series([
        [0, 100],
        [0.1, 100],
      ]),
      undefined,
      { limit: 150 * MiB },
      true,
    ],
    [
      'restarted for memory since the last start',
      series([
        [0, 100],
        [0.1, 100],
      ]),
      undefined,
      { restartAt: 1_000_500 },
      true,
    ],
  ] as [string, MemorySample[], MemorySample | undefined, { limit?: number; restartAt?: number }, boolean][])(
    '%s',
    (_name, memory, earlier, extra, expected) => {
      expect(looksLikeGrowing(serviceWith(memory, extra), earlier)).toBe(expected);
    },
  );
});

describe('watchedEnough', () => {
  // Two looks in the run (0 and 0.1 s), the window from 0.12 s, a look every 0.15 s.
  const windowStart = 1_000_000 + 120;
  it.each([
    [
      'a leak, 0.75 s watched: its rate is known',
      [
        [0, 100],
        [0.1, 103],
        [0.27, 106],
        [0.42, 110],
        [0.57, 114],
        [0.72, 118],
        [0.87, 122],
      ],
      true,
    ],
    [
      'a leak, 0.3 s watched: not yet',
      [
        [0, 100],
        [0.1, 103],
        [0.27, 106],
        [0.42, 110],
      ],
      false,
    ],
    [
      "flat after the gate (the probes' own allocations): stop at 0.3 s",
      [
        [0, 100],
        [0.1, 101.5],
        [0.27, 101.5],
        [0.42, 101.6],
      ],
      true,
    ],
    [
      'flat, one look into the window: not yet',
      [
        [0, 100],
        [0.1, 101.5],
        [0.27, 101.5],
      ],
      false,
    ],
    [
      'memory given back: stop',
      [
        [0, 100],
        [0.1, 103],
        [0.27, 90],
      ],
      true,
    ],
  ] as [string, [number, number][], boolean][])('%s', (_name, points, expected) => {
    expect(watchedEnough(series(points), windowStart, 1500)).toBe(expected);
  });
});
