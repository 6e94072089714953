// The line start and restart print after the build: it says plainly whether anything was rebuilt
// (a trial's reader took "built 1 service ... (turbo, 4 cached)" for "nothing rebuilt").
import { describe, expect, it } from 'vitest';
import { buildLine } from '../src/lifecycle/prepare';

const turbo = 'turbo run build --filter=@repo/form... --output-logs=errors-only';

describe('buildLine', () => {
  it.each([
    [
      'some tasks ran, the rest came from the cache',
      { command: turbo, packages: ['@repo/form'], elapsedMs: 2000, cached: 3, tasks: 4 },
      'built 1 service in 2s (turbo: 1 of 4 build tasks rebuilt from changed sources, 3 unchanged and taken from its cache)',
    ],
    [
      'every task cached (no change, or a change undone: turbo keys its cache by content)',
      { command: turbo, packages: ['@repo/form', '@repo/auth'], elapsedMs: 400, cached: 5, tasks: 5 },
      'built 2 services in 400ms (turbo: these exact sources were built before; all 5 build tasks restored from its cache)',
    ],
    [
      'every task ran',
      { command: turbo, packages: ['@repo/form'], elapsedMs: 9000, cached: 0, tasks: 2 },
      'built 1 service in 9s (turbo: 2 of 2 build tasks rebuilt from changed sources)',
    ],
    [
      'turbo said nothing countable',
      { command: turbo, packages: ['@repo/form'], elapsedMs: 1000, cached: null, tasks: null },
      'built 1 service in 1s (turbo)',
    ],
    [
      'each package built by its own script',
      { command: 'pnpm run build', packages: ['@repo/form'], elapsedMs: 1000, cached: null },
      'built 1 service in 1s (pnpm)',
    ],
  ])('%s', (_name, result, line) => {
    expect(buildLine(result)).toBe(line);
  });

  it('says nothing when nothing needed building', () => {
    expect(buildLine({ command: null, packages: [], elapsedMs: 0, cached: null })).toBeNull();
  });
});
