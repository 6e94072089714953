// An edit to devctl reruns devctl's tests, not every task of the workspace. turbo folds every file
// of the packages the root package.json depends on into the global hash of all tasks; the root
// gets devctl's bin from .pnpmfile.cjs instead (see there). Checked on this checkout: what the
// root declares, what turbo hashes globally, and that the bin the README's commands use is linked.
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { templateRoot as root } from './scaffold-helpers';

describe('the workspace root and turbo’s cache', () => {
  it('declares no workspace package, so no package’s files are in every task’s hash', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    const declared = { ...pkg.dependencies, ...pkg.devDependencies };
    const workspace = Object.entries(declared).filter(([, version]) => version.startsWith('workspace:'));
    expect(workspace).toEqual([]);
    // turbo's own view: the global hash has no internal dependencies to walk.
    const dry = execFileSync(
      join(root, 'node_modules/.bin/turbo'),
      ['run', 'build', '--filter=@repo/stack-contract', '--dry=json'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
    );
    const summary = JSON.parse(dry) as { globalCacheInputs: { hashOfInternalDependencies: string } };
    expect(summary.globalCacheInputs.hashOfInternalDependencies).toBe('');
  });

  it('still links devctl’s bin at the root (pnpm devctl, pnpm pm2:start, pnpm dev)', () => {
    const shim = readFileSync(join(root, 'node_modules/.bin/devctl'), 'utf8');
    expect(shim).toContain('@repo/devctl/bin/devctl.js');
    expect(realpathSync(join(root, 'node_modules/@repo/devctl'))).toBe(
      realpathSync(join(root, 'packages/devctl')),
    );
  });
});
