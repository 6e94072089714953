const translated = new Map<string, string>();

/**
 * Turns the `?` placeholders of SQL written for both adapters into PostgreSQL's `$1, $2, ...`.
 * A `?` inside a quoted string literal is left alone.
 */
export function toPostgresPlaceholders(sql: string): string {
  const cached = translated.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let index = 0;
  let inString = false;
  for (const ch of sql) {
    // A doubled quote ('') toggles twice, so escaped quotes need no special case.
    if (ch === "'") inString = !inString;
    out += ch === '?' && !inString ? `$${++index}` : ch;
  }
  translated.set(sql, out);
  return out;
}
