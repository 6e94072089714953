import { describe, expect, it } from 'vitest';
import { isSecretName, MASK, maskValue, shortHash, shortHashOf } from '../src/index';

describe('secret names', () => {
  it.each([
    ['JWT_SECRET', true],
    ['SMTP_PASSWORD', true],
    ['smtp_passwd', true],
    ['API_KEY', true],
    ['GITHUB_TOKEN', true],
    ['AWS_CREDENTIALS', true],
    ['PRIVATE_PEM', true],
    ['DATABASE_URL', false],
    ['PORT', false],
    ['LOG_LEVEL', false],
  ])('%s is a secret: %s', (name, secret) => {
    expect(isSecretName(name)).toBe(secret);
  });
});

describe('maskValue', () => {
  it.each([
    ['a secret by its name', 'JWT_SECRET', 'hunter2-hunter2', MASK],
    ['an already masked secret', 'JWT_SECRET', MASK, MASK],
    ['a URL password', 'DATABASE_URL', 'postgres://app:s3cret@db:5432/x', 'postgres://app:****@db:5432/x'],
    ['every URL of a list', 'URLS', 'http://a:1@x,https://b:2@y', 'http://a:****@x,https://b:****@y'],
    ['a scheme with + and .', 'X', 'git+ssh.v2://u:pw@host', 'git+ssh.v2://u:****@host'],
    ['a URL without a password', 'DATABASE_URL', 'postgres://app@db/x', 'postgres://app@db/x'],
    ['a plain value', 'LOG_LEVEL', 'debug', 'debug'],
    ['an empty value', 'JWT_SECRET', '', ''],
  ])('masks %s', (_what, name, value, shown) => {
    expect(maskValue(name, value)).toBe(shown);
  });

  it('gives null for no value', () => {
    expect(maskValue('JWT_SECRET', undefined)).toBeNull();
    expect(maskValue('PORT', null)).toBeNull();
  });
});

describe('short hashes', () => {
  it('is sha256: and 8 hex digits, the same for the same value, different for another', () => {
    expect(shortHash('a')).toMatch(/^sha256:[0-9a-f]{8}$/);
    expect(shortHash('a')).toBe('sha256:ca978112');
    expect(shortHash('b')).not.toBe(shortHash('a'));
  });

  it.each([
    ['sha256:ca978112', 'sha256:ca978112'],
    ['sha256:CA978112', null],
    ['sha256:ca978112ff', null],
    ['the-secret-itself', null],
    [42, null],
    [undefined, null],
  ])('reads %j back as %j', (value, read) => {
    expect(shortHashOf(value)).toBe(read);
  });
});
