// What every reader of a PM2 log file peels off a line first: PM2's time prefix and, for the
// services' pino lines, a JSON object. `logs`, `trace` and diagnose's tail read the same files, so
// they share these two rules (each had its own copy, and the copies had begun to differ).

// PM2's default `log_date_format` is `YYYY-MM-DDTHH:mm:ss` (no zone: local time, which is how
// `new Date()` reads such a string); custom formats with a space, milliseconds or a zone are
// accepted too.
const PM2_PREFIX = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})?): /;

/** A line without PM2's prefix: its time (ms, second precision by default) when it had one. */
export function splitPm2Prefix(raw: string): { time: number | undefined; body: string } {
  const prefix = PM2_PREFIX.exec(raw);
  if (!prefix) return { time: undefined, body: raw };
  const time = new Date((prefix[1] as string).replace(' ', 'T')).getTime();
  return { time: Number.isNaN(time) ? undefined : time, body: raw.slice(prefix[0].length) };
}

/** The JSON object a line holds, or undefined (plain text, an array, or JSON that PM2 split). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    // A JSON line that PM2 split at a pipe-read boundary, or plain text that looks like JSON.
    return undefined;
  }
}
