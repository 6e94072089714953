#!/usr/bin/env node
// devctl's entry: runs the bundle in dist/, building it first (esbuild, ~50 ms) when it is
// missing, so a fresh clone needs no separate build step before `pnpm pm2:start`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  await import('../build.mjs');
}
await import(main.href);
