#!/usr/bin/env node
// Bundles a workspace package's entry points into dist/ with esbuild: one ESM file per entry, with a
// source map so `node --enable-source-maps` prints TypeScript file:line in stack traces.
//
// What goes into the bundle depends on what the package is:
// - an application (a service: its package.json has no `exports`/`main`, nothing imports it) gets
//   its npm dependencies and workspace packages (from their TypeScript, the `source` condition)
//   bundled in. Node then reads and compiles one file at start-up instead of resolving and loading
//   ~300 CommonJS files and zod's ES modules from node_modules one by one, which was most of a
//   service's start-up, so of its restart after a crash (bench/startup.mjs: ~0.65x). Packages with native addons stay external (NATIVE_PACKAGES):
//   Node resolves them from the service's own node_modules at run time, so a service must list
//   them in its dependencies (pnpm's strict layout hides undeclared ones).
// - a library (service-kit, test-utils) keeps every bare import external: its consumers resolve
//   them, and one copy of fastify/pino is shared.
//
// An application's source map keeps only the mappings of its own and its workspace packages'
// TypeScript: `--enable-source-maps` reads and parses the whole map at start-up, and the npm
// packages' ~1.2 MB of mappings cost ~40-50 ms of every (re)start. A frame inside an npm package
// then names dist/index.js with its line and column, and the real function name.
//
//   service-build [entries...] [--packages bundle|external] [--outdir dist] [--no-minify]
//                 [--dependency-maps]
//
// --packages overrides the choice above; --outdir builds elsewhere (bench/startup.mjs compares
// the layouts side by side without touching dist/); --no-minify keeps an application bundle
// readable; --dependency-maps keeps the npm packages' mappings too.
import { readFileSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { dropDependencyMappings } from './source-map.mjs';

/**
 * Bare imports left to Node even in an application bundle: packages that load a platform binary
 * (`.node` addon) at run time, which esbuild cannot inline.
 */
const NATIVE_PACKAGES = ['@libsql/client', 'pg-native'];

const { values: options, positionals: entries } = parseArgs({
  allowPositionals: true,
  allowNegative: true,
  options: {
    packages: { type: 'string' },
    minify: { type: 'boolean', default: true },
    'dependency-maps': { type: 'boolean', default: false },
    outdir: { type: 'string', default: 'dist' },
  },
});
if (entries.length === 0) entries.push('src/index.ts');

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const isLibrary = manifest.exports !== undefined || manifest.main !== undefined;
const packages = options.packages ?? (isLibrary ? 'external' : 'bundle');
if (packages !== 'bundle' && packages !== 'external') {
  console.error(`service-build: --packages must be "bundle" or "external", not "${packages}"`);
  process.exit(2);
}

const common = {
  entryPoints: Object.fromEntries(entries.map((e) => [basename(e, extname(e)), e])),
  outdir: options.outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
};

const dependencyOptions =
  packages === 'external'
    ? { packages: 'external' }
    : {
        external: NATIVE_PACKAGES,
        // Workspace packages from their TypeScript, so stack traces name e.g. service-kit's src file.
        conditions: ['source'],
        // Bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
        banner: {
          js: "import { createRequire as __serviceBuildCreateRequire } from 'node:module';\nconst require = __serviceBuildCreateRequire(import.meta.url);",
        },
        // Whitespace and syntax only: a third less to read and compile at start-up; identifiers
        // stay, so function names in stack traces are the real ones.
        minifyWhitespace: options.minify,
        minifySyntax: options.minify,
      };

rmSync(options.outdir, { recursive: true, force: true });
const result = await build({ ...common, ...dependencyOptions, metafile: true });
if (packages === 'bundle' && !options['dependency-maps']) {
  for (const output of Object.keys(result.metafile.outputs))
    if (output.endsWith('.map')) dropDependencyMappings(join(process.cwd(), output));
}
