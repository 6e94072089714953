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
