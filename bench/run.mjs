#!/usr/bin/env node
// `pnpm bench`: runs every benchmark in bench/ (each *.mjs but this file and the _-prefixed
// helpers), one after the other, so they never compete for the two cores. Arguments after the
// file names pick some: `pnpm bench status scale`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((file) => file.endsWith('.mjs') && file !== 'run.mjs' && !file.startsWith('_'))
  .filter((file) => wanted.length === 0 || wanted.includes(file.replace(/\.mjs$/, '')))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== bench/${file}`);
  const result = spawnSync(process.execPath, [`${dir}${file}`], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`bench/${file} failed (exit ${result.status ?? result.signal})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
