// Just enough of npm's version ranges for `engines.node` and `packageManager`: comparators
// (>=, >, <=, <, =), caret and tilde ranges, x-ranges (20, 20.x, 20.19.x), space-joined AND and
// `||` OR. Pre-release tags are ignored. (A full semver package would be one more dependency for
// one line of package.json.)

type Version = [number, number, number];

export function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: Version, b: Version): number {
  for (let index = 0; index < 3; index++) {
    const diff = (a[index] as number) - (b[index] as number);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** How many of major.minor.patch the text gives (`20.x` gives 1). */
function precision(text: string): number {
  return text
    .replace(/^v/, '')
    .split('.')
    .filter((part) => /^\d+$/.test(part)).length;
}

function bump(version: Version, at: number): Version {
  const next: Version = [...version];
  next[at] = (next[at] as number) + 1;
  for (let index = at + 1; index < 3; index++) next[index] = 0;
  return next;
}

function satisfiesComparator(version: Version, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(comparator);
  if (!match) return false;
  const operator = match[1] ?? '';
  const bound = parseVersion(match[2] as string);
  if (!bound) return comparator === '*' || comparator === 'x';
  const digits = precision(match[2] as string);
  const c = compare(version, bound);
  switch (operator) {
    case '>=':
      return c >= 0;
    case '>':
      return digits < 3 ? compare(version, bump(bound, digits - 1)) >= 0 : c > 0;
    case '<=':
      return digits < 3 ? compare(version, bump(bound, digits - 1)) < 0 : c <= 0;
    case '<':
      return c < 0;
    case '^': {
      const at = bound[0] > 0 ? 0 : bound[1] > 0 || digits < 3 ? 1 : 2;
      return c >= 0 && compare(version, bump(bound, Math.min(at, digits - 1))) < 0;
    }
    case '~':
      return c >= 0 && compare(version, bump(bound, digits >= 2 ? 1 : 0)) < 0;
    default:
      // `20`, `20.x`, `=20.19.0`: every version inside the given precision.
      return c >= 0 && (digits === 3 ? c === 0 : compare(version, bump(bound, digits - 1)) < 0);
  }
}

/** True when `version` satisfies `range` (e.g. `>=20.19`, `^20.19.0 || >=22`). */
export function satisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  if (!parsed) return false;
  return range.split('||').some((alternative) => {
    const comparators = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean);
    return (
      comparators.length === 0 || comparators.every((comparator) => satisfiesComparator(parsed, comparator))
    );
  });
}
