// The one vitest configuration of the workspace's packages: each package's vitest.config.ts is
// `packageConfig({...what differs})`. Imported by a relative path ending in .js (vite bundles a
// config file and would load a workspace package's TypeScript untranspiled; vite and tsc both map
// .js to this .ts). turbo.json lists this file in every test task's inputs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

type TestOptions = NonNullable<ViteUserConfig['test']>;

/**
 * A file order that starts the given files first, in the order given, then the rest in vitest's own
 * order (the last run's durations from its cache, else the larger file first). Without a cache -- a
 * fresh clone, CI -- vitest ranks files by size, and a short file that runs for minutes (an
 * end-to-end test) starts last and alone: the run lasts as long as the lanes before it plus itself.
 * Started first, it runs while the other lanes work through the short files. Paths are relative to
 * the package; a name that matches no file changes nothing.
 */
export function longestFirst(files: readonly string[]): typeof BaseSequencer {
  return class LongestFirst extends BaseSequencer {
    override async sort(specs: TestSpecification[]): Promise<TestSpecification[]> {
      const rank = (spec: TestSpecification) => {
        const index = files.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
        return index === -1 ? files.length : index;
      };
      // Array sort is stable: the unlisted files keep vitest's order.
      return (await super.sort(specs)).sort((a, b) => rank(a) - rank(b));
    }
  };
}

/**
 * 'source' resolves workspace packages to their TypeScript, so tests never run stale dist/ output.
 * The timeouts are bounds, not timing assertions: `pnpm test` runs the packages side by side on a
 * 2-core machine, where a service started from its TypeScript can take well over 10 s to answer.
 */
export function packageConfig(test: TestOptions = {}, vite: ViteUserConfig = {}) {
  // Reading ecosystem.config.js claims a stack (docs/side-by-side.md): tests claim in a registry of
  // their own, never the developer's, and from block 80-139 (ports 11000-17006, web 13173-19173),
  // so a test's stack never lands on the documented ports of a stack a person runs.
  const stackEnv = {
    DEVSTACK_STATE_DIR: mkdtempSync(join(tmpdir(), 'devstack-state-')),
    DEVSTACK_FIRST_BLOCK: String(80 + Math.floor(Math.random() * 60)),
  };
  return defineConfig({
    ...vite,
    resolve: { conditions: ['source'], ...vite.resolve },
    ssr: { resolve: { conditions: ['source'] }, ...vite.ssr },
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      // A worker runs its files one after the other in one module graph instead of a fresh one per
      // file. `pnpm test` is CPU-bound on 2 cores (~1100 CPU-seconds before), and re-importing Fastify,
      // zod and each package's sources for every file was a large share of it: a package's tests
      // took 30-55 % less CPU each (cgroup cpuacct, same files, side by side: api-gateway 26 -> 11 s,
      // auth 35 -> 23, data 23 -> 12, email 16 -> 8). Test files therefore leave no global state
      // behind them: they restore process.env and close what they open (every file in the
      // workspace already did; a file that cannot says `isolate: true` in its package's config).
      isolate: false,
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...test,
      env: { ...stackEnv, ...test.env },
    },
  });
}
