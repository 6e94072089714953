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
