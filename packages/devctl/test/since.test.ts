// --since as a reader types it: a duration, an ISO time, or a clock time copied from devctl's own
// evidence lines (`01:34:15`), which a trial's reader pasted and was refused.
import { describe, expect, it } from 'vitest';
import { CLIError } from '../src/errors';
import { parseSince } from '../src/logs/since';

const now = new Date(2026, 11, 7, 1, 40, 0, 0); // local time, as devctl prints clocks

describe('parseSince', () => {
  it.each([
    ['10m', new Date(2026, 11, 7, 1, 30, 0, 0)],
    ['30s', new Date(2026, 11, 7, 1, 39, 30, 0)],
    ['01:34:15', new Date(2026, 11, 7, 1, 34, 15, 0)],
    ['1:34', new Date(2026, 11, 7, 1, 34, 0, 0)],
    ['01:34:15.250', new Date(2026, 11, 7, 1, 34, 15, 250)],
    // Today's 23:50 is still to come: yesterday's.
    ['23:50', new Date(2026, 11, 6, 23, 50, 0, 0)],
  ])('%s', (value, expected) => {
    expect(parseSince(value, now).getTime()).toBe(expected.getTime());
  });

  it('takes an ISO time as it is', () => {
    expect(parseSince('2026-12-06T10:00:00Z', now).toISOString()).toBe('2026-12-06T10:00:00.000Z');
  });

  it.each(['yesterday', '25:00', '12:61', '1:2:3'])('refuses %s as a usage error (exit 2)', (value) => {
    let error: unknown;
    try {
      parseSince(value, now);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CLIError);
    expect((error as CLIError).exitCode).toBe(2);
    expect((error as Error).message).toContain('nor a clock time (13:05:00)');
  });
});
