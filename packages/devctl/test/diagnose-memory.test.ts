// What counts as steady memory growth, as a table of sample series (MiB at seconds).
import { describe, expect, it } from 'vitest';
import { steadyGrowth } from '../src/diagnose/detectors/memory';

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
