#!/usr/bin/env node
// devctl's entry (CommonJS: see bin/package.json; it starts faster than ESM). Runs dist/main.cjs,
// building it first (esbuild) when it is missing or older than a file in src/, so a fresh clone or
// an edited devctl needs no separate build step before `pnpm pm2:start`.
//
// The bundle is compiled with V8's code cache (dist/main.cjs.v8cache, written after the first run,
// as the v8-compile-cache package does): parsing ~300 KB of JavaScript on every start is a large
// part of a `devctl status` otherwise. build.mjs refuses a bundle with a runtime `import()`, which
// a script compiled this way could not run.
const { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const packageDir = join(__dirname, '..');
const main = join(packageDir, 'dist', 'main.cjs');
const cacheFile = `${main}.v8cache`;

/** True when some file under src/ changed after the bundle was written. */
function isStale() {
  const builtAt = statSync(main).mtimeMs;
  const folders = [join(packageDir, 'src')];
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

function readCache() {
  try {
    return statSync(cacheFile).mtimeMs >= statSync(main).mtimeMs ? readFileSync(cacheFile) : undefined;
  } catch {
    return undefined;
  }
}

function run() {
  const Module = require('node:module');
  const vm = require('node:vm');
  const cachedData = readCache();
  const script = new vm.Script(Module.wrap(readFileSync(main, 'utf8')), { filename: main, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    // After the run, so the cache holds the functions the command compiled too.
    process.once('exit', () => {
      try {
        const temporary = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, cacheFile);
      } catch {
        // a read-only checkout runs without the cache
      }
    });
  }
  const bundle = new Module(main, module);
  bundle.filename = main;
  bundle.paths = Module._nodeModulePaths(dirname(main));
  const wrapper = script.runInThisContext();
  wrapper.call(bundle.exports, bundle.exports, Module.createRequire(main), bundle, main, dirname(main));
}

let needsBuild = !existsSync(main);
if (!needsBuild && existsSync(join(packageDir, 'src'))) {
  try {
    needsBuild = isStale();
  } catch {
    needsBuild = false;
  }
}
if (needsBuild) {
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
