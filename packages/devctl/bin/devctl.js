#!/usr/bin/env node
// devctl's entry (CommonJS: see bin/package.json; it starts faster than ESM). Runs dist/main.cjs,
// building it first (esbuild, ~100 ms) when it is missing or older than a file in src/, so a fresh
// clone or an edited devctl needs no separate build step before `pnpm pm2:start`.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const packageDir = join(__dirname, '..');
const main = join(packageDir, 'dist', 'main.cjs');

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

function run() {
  require(main);
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
