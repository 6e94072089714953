// Secrets never reach an agent: every string of every tool result goes through maskText. The
// services and `devctl env` mask their own output; this second pass catches what a log line, a
// stack trace or a diagnose evidence quotes verbatim (a URL with a password, `API_KEY=...`, a
// bearer token, a JWT).
import { isSecretName, MASK } from '../output/mask';

// Every repetition is bounded or follows a literal, so a 20 KB line costs linear time, not quadratic.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,30}:\/\/[^:/@\s]{0,256}:)([^@\s]{1,256})(@)/gi;
/** `NAME=value`, `NAME: value`, `"name":"value"` (the name decides, through isSecretName). */
const ASSIGNMENT = /\b([A-Za-z_][A-Za-z0-9_-]{0,63})(["']?\s*[:=]\s*["']?)([^\s"',;&}\]]+)/g;
const AUTHORIZATION = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+/g;

export function maskText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1${MASK}$3`)
    .replace(AUTHORIZATION, `$1 ${MASK}`)
    .replace(JWT, MASK)
    .replace(ASSIGNMENT, (whole, name: string, separator: string, value: string) =>
      // `<value>` is a placeholder in a hint ("set API_KEY=<value> in .env"), not a secret.
      isSecretName(name) && value !== MASK && !value.startsWith('<') ? `${name}${separator}${MASK}` : whole,
    );
}

/** A copy of `value` with maskText applied to every string in it. */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskText(value) as T;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskDeep(item)])) as T;
  }
  return value;
}
