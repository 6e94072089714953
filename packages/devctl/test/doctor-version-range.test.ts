// The version ranges doctor understands (engines.node, packageManager), as a table: npm's ranges
// through `semver`, with a pre-release tag ignored.
import { describe, expect, it } from 'vitest';
import { satisfiesRange as satisfies } from '../src/doctor/checks';

const cases: [version: string, range: string, expected: boolean][] = [
  ['v20.20.2', '>=20.19', true],
  ['v20.18.9', '>=20.19', false],
  ['v22.1.0', '>=20.19', true],
  ['20.19.0', '^20.19.0', true],
  ['21.0.0', '^20.19.0', false],
  ['0.2.9', '^0.2.3', true],
  ['0.3.0', '^0.2.3', false],
  ['20.19.5', '~20.19.1', true],
  ['20.20.0', '~20.19.1', false],
  ['20.5.1', '20.x', true],
  ['21.0.0', '20', false],
  ['20.20.2', '>=18 <21', true],
  ['21.0.0', '>=18 <21', false],
  ['18.0.0', '^20 || ^18', true],
  ['19.0.0', '^20 || ^18', false],
  ['20.1.0', '>20', false],
  ['21.0.0', '>20', true],
  ['20.9.0', '<=20', true],
  ['12.4.2', '12.4.2', true],
  ['12.4.3', '12.4.2', false],
  ['1.0.0', '*', true],
  ['not-a-version', '>=1', false],
  ['v23.0.0-nightly20261201', '>=22', true],
  ['20.19.0', '>=20.19.0 <21 || >=22.12', true],
  ['21.5.0', '>=20.19.0 <21 || >=22.12', false],
];

describe('satisfies', () => {
  it.each(cases)('%s against %s -> %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });
});
