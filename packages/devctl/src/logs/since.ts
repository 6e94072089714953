import { usageError } from '../errors';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since`: a duration back from now (`30s`, `10m`, `2h`, `1d`), an ISO time, or a clock time
 * (`01:34:15`, `13:05`) as devctl prints them in evidence and logs: today's, local time, or
 * yesterday's when today's is still to come (a trial's reader pasted one and was refused).
 */
export function parseSince(value: string, now = new Date()): Date {
  const text = value.trim();
  const duration = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text);
  if (duration)
    return new Date(now.getTime() - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number));
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = new Date(text);
    if (!Number.isNaN(time.getTime())) return time;
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?$/.exec(text);
  if (clock) {
    const [hours, minutes, seconds] = [clock[1], clock[2], clock[3] ?? '0'].map(Number) as [
      number,
      number,
      number,
    ];
    if (hours < 24 && minutes < 60 && seconds < 60) {
      const time = new Date(now);
      time.setHours(hours, minutes, seconds, clock[4] ? Math.round(Number(clock[4]) * 1000) : 0);
      if (time.getTime() > now.getTime()) time.setDate(time.getDate() - 1);
      return time;
    }
  }
  throw usageError(
    `--since "${value}" is neither a duration (30s, 10m, 2h, 1d), an ISO time (2026-11-26T12:00:00) nor a clock time (13:05:00)`,
  );
}
