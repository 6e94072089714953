#!/usr/bin/env node
// devctl's entry (CommonJS: see bin/package.json; it starts faster than ESM). Runs dist/main.cjs,
// or dist/status.cjs for `devctl status` (the hottest command, in a bundle of its own), building
// them first (esbuild) when missing or older than a file in src/, so a fresh clone or an edited
// devctl needs no separate build step before `pnpm pm2:start`.
//
// Bundles are compiled with V8's code cache (<bundle>.v8cache, written after the first run, as the
// v8-compile-cache package does). build.mjs refuses a bundle with a runtime `import()`, which a
// script compiled this way could not run.
const { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const packageDir = join(__dirname, '..');
const main = join(packageDir, 'dist', 'main.cjs');
const statusBundle = join(packageDir, 'dist', 'status.cjs');

/**
 * The sources bundled into dist/: devctl's src/ and the stack contract's (bundled from its
 * TypeScript, reached through the workspace link in node_modules).
 */
const sourceFolders = () =>
  [join(packageDir, 'src'), join(packageDir, 'node_modules', '@repo', 'stack-contract', 'src')].filter(
    (folder) => existsSync(folder),
  );

/** True when a bundle is missing, or some bundled source changed after the bundles were written. */
function needsBuild() {
  if (!existsSync(main) || !existsSync(statusBundle)) return true;
  if (!existsSync(join(packageDir, 'src'))) return false;
  const builtAt = Math.min(statSync(main).mtimeMs, statSync(statusBundle).mtimeMs);
  const folders = sourceFolders();
  while (folders.length > 0) {
    const folder = folders.pop();
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) folders.push(path);
      else if (statSync(path).mtimeMs > builtAt) return true;
    }
  }
  return false;
}

function readCache(file) {
  try {
    return statSync(`${file}.v8cache`).mtimeMs >= statSync(file).mtimeMs
      ? readFileSync(`${file}.v8cache`)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Loads a CommonJS bundle through V8's code cache and returns its exports. */
function load(file) {
  const Module = require('node:module');
  const vm = require('node:vm');
  const cachedData = readCache(file);
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    // After the run, so the cache holds the functions the command compiled too.
    process.once('exit', () => {
      try {
        const temporary = `${file}.v8cache.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, `${file}.v8cache`);
      } catch {
        // a read-only checkout runs without the cache
      }
    });
  }
  const bundle = new Module(file, module);
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(dirname(file));
  script
    .runInThisContext()
    .call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, dirname(file));
  return bundle.exports;
}

function run() {
  if (process.argv[2] === 'status') {
    // The fast path answers, or hands over to the full CLI (for --help or a usage error).
    load(statusBundle)
      .fastStatus(process.argv.slice(3))
      .then((code) => (code === undefined ? load(main) : process.exit(code)));
    return;
  }
  load(main);
}

let stale;
try {
  stale = needsBuild();
} catch {
  stale = !existsSync(main);
}
if (stale) {
  import('../build.mjs')
    .then((builder) => builder.buildDevctl())
    .then(run, (error) => {
      process.stderr.write(
        `devctl: could not build ${main}: ${error.message}\n(run: pnpm --filter @repo/devctl build)\n`,
      );
      process.exitCode = 1;
    });
} else {
  run();
}
