import { usageError } from '../errors';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`30s`, `10m`, `2h`, `1d`) or an ISO time. */
export function parseSince(value: string, now = new Date()): Date {
  const duration = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(value.trim());
  if (duration)
    return new Date(now.getTime() - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number));
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const time = new Date(value.trim());
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw usageError(
    `--since "${value}" is neither a duration (30s, 10m, 2h, 1d) nor an ISO time (2026-11-26T12:00:00)`,
  );
}
