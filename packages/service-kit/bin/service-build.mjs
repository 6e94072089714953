#!/usr/bin/env node
// Bundles a workspace package's entry points into dist/ with esbuild: one ESM file per entry, with a
// source map so `node --enable-source-maps` prints TypeScript file:line in stack traces. Every bare
// import (npm packages and other workspace packages) stays external and is resolved by Node at run
// time, so a package's bundle holds only its own code.
import { rmSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { build } from 'esbuild';

const entries = process.argv.slice(2);
if (entries.length === 0) entries.push('src/index.ts');

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(entries.map((e) => [basename(e, extname(e)), e])),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
