// Masking of secret values before anything is printed. The services mask their own --print-config
// output; devctl masks again so a service that forgets cannot leak through devctl.

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE/i;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@)/gi;

export const MASK = '****';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The value as it may be shown: secrets by name replaced, passwords inside URLs replaced. */
export function maskValue(name: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (value === '') return value;
  if (isSecretName(name)) return value === MASK ? value : MASK;
  return value.replace(URL_CREDENTIALS, `$1${MASK}$3`);
}

const SHORT_HASH = /^sha256:[0-9a-f]{8}$/;

/**
 * The kit's short hash of a secret (`sha256:` and 8 hex digits), or null for anything else: a
 * field shaped otherwise could carry a value, so it is never shown.
 */
export function shortHashOf(value: unknown): string | null {
  return typeof value === 'string' && SHORT_HASH.test(value) ? value : null;
}
