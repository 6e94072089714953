#!/usr/bin/env node
// devctl's log rotator, run by PM2 as the `devctl-logrotate` app of ecosystem.config.js (see
// src/logrotate/main.ts). Runs dist/logrotate.cjs, bundling it first with esbuild (~100 ms) when it
// is missing or older than a file in src/, so a fresh clone needs no separate build step.
const { existsSync, readdirSync, renameSync, statSync } = require('node:fs');
const { join } = require('node:path');

const packageDir = join(__dirname, '..');
const bundle = join(packageDir, 'dist', 'logrotate.cjs');

/** True when some bundled source (devctl's src/, the stack contract's) changed after the bundle was written. */
function isStale() {
  const builtAt = statSync(bundle).mtimeMs;
  const folders = [
    join(packageDir, 'src'),
    join(packageDir, 'node_modules', '@repo', 'stack-contract', 'src'),
  ].filter((folder) => existsSync(folder));
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

/** devctl's dependencies but the stack contract, with their subpaths. */
function externalPackages() {
  const manifest = require(join(packageDir, 'package.json'));
  return Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter((name) => name !== '@repo/stack-contract')
    .flatMap((name) => [name, `${name}/*`]);
}

function build() {
  const { buildSync } = require('esbuild');
  // A temporary name, then a rename: a rotator starting in parallel never runs half a file.
  const temporary = `${bundle}.${process.pid}.tmp`;
  buildSync({
    absWorkingDir: packageDir,
    entryPoints: ['src/logrotate/main.ts'],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // npm packages stay external; the stack contract is bundled from its TypeScript (it has no dist/
    // until turbo builds it). buildSync takes no plugins, so the external ones are listed by name.
    external: externalPackages(),
    conditions: ['source'],
    logLevel: 'warning',
    define: { 'import.meta.url': '__logrotate_import_meta_url' },
    banner: { js: 'const __logrotate_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  });
  renameSync(temporary, bundle);
}

let needsBuild = !existsSync(bundle);
if (!needsBuild && existsSync(join(packageDir, 'src'))) {
  try {
    needsBuild = isStale();
  } catch {
    needsBuild = false;
  }
}
if (needsBuild) {
  try {
    build();
  } catch (error) {
    process.stderr.write(
      `devctl-logrotate: could not build ${bundle}: ${error.message}\n(run: pnpm --filter @repo/devctl build)\n`,
    );
    process.exit(1);
  }
}
require(bundle);
