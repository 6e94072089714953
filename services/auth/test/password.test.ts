import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/password';

describe('scrypt password hashes', () => {
  it('verifies the password it hashed and refuses another', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
  });

  it('salts every hash, so one password gives different hashes', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(a).not.toBe(b);
    expect(a.split('$').slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
  });

  it('uses the parameters stored with the hash, so older costs still verify', async () => {
    const stored = await hashPassword('parameters travel');
    const [, , r, p, salt] = stored.split('$');
    // Re-derive the same password at N=1024 with node:crypto directly and store it in the same format.
    const { scryptSync } = await import('node:crypto');
    const key = scryptSync('parameters travel', Buffer.from(salt as string, 'base64'), 64, {
      N: 1024,
      r: 8,
      p: 1,
    });
    const cheaper = ['scrypt', 1024, r, p, salt, key.toString('base64')].join('$');
    expect(await verifyPassword('parameters travel', cheaper)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'bcrypt$2b$10$abcdefghijklmnopqrstuv'],
    ['a missing part', 'scrypt$16384$8$1$c2FsdA=='],
    ['N not a power of two', `scrypt$1000$8$1$c2FsdHNhbHQ=$${'A'.repeat(88)}`],
    ['N costing gigabytes', `scrypt$${2 ** 24}$8$1$c2FsdHNhbHQ=$${'A'.repeat(88)}`],
    ['a short hash', 'scrypt$16384$8$1$c2FsdHNhbHQ=$AAAA'],
  ])('treats a malformed stored hash (%s) as a mismatch, not an error', async (_what, stored) => {
    expect(await verifyPassword('anything', stored)).toBe(false);
  });
});
