// Which variables are secrets, and how a value is shown. The kit masks its own --print-config output
// and its config-error messages; devctl masks again whatever it prints, so a service that forgets
// cannot leak through devctl. Both must agree on the names, the mask and the short hash.
import { createHash } from 'node:crypto';

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE/i;
/** `scheme://user:password@`: RFC 3986's scheme, then the credentials of the authority. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@)/gi;

/** What a secret value is shown as. */
export const MASK = '****';

/** True for a variable whose value is a secret, by its name (JWT_SECRET, SMTP_PASSWORD, API_KEY...). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The value as it may be shown: a secret (by name) replaced by MASK, the password inside any URL's
 * credentials replaced; null when there is no value.
 */
export function maskValue(name: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (value === '') return value;
  if (isSecretName(name)) return MASK;
  return value.replace(URL_CREDENTIALS, `$1${MASK}$3`);
}

/**
 * `sha256:` and the first 8 hex digits of the value's SHA-256: enough to tell two secrets apart
 * (a false match is one chance in 4 billion) and to compare two services by eye, while 32 bits of a
 * hash say nothing usable about a secret of 32 characters or more.
 */
export function shortHash(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
}

const SHORT_HASH = /^sha256:[0-9a-f]{8}$/;

/**
 * A short hash as shortHash writes it, or null for anything else: a field shaped otherwise could
 * carry a value, so a reader never shows it.
 */
export function shortHashOf(value: unknown): string | null {
  return typeof value === 'string' && SHORT_HASH.test(value) ? value : null;
}
