import { createHash } from 'node:crypto';

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Masks a value for display: secrets by name, and the password inside any URL's credentials. */
export function maskValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return value;
  if (isSecretName(name)) return '****';
  return value.replace(/(\w+:\/\/[^:/@\s]*:)([^@\s]+)(@)/g, '$1****$3');
}

/**
 * `sha256:` and the first 8 hex digits of the value's SHA-256: enough to tell two secrets apart
 * (a false match is one chance in 4 billion) and to compare two services by eye, while 32 bits of a
 * hash say nothing usable about a secret of 32 characters or more.
 */
export function shortHash(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
}
