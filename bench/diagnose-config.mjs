#!/usr/bin/env node
// What the configuration checks of diagnose (config-consistency, config-on-disk: one
// `--print-config` dry run per kit service, cached in node_modules/.cache/devctl) cost, on a stack
// kept by `node bench/diagnose.mjs --keep`: `devctl diagnose --json` of this checkout with the
// cache warm and cold (removed before each run), against a devctl without the checks (`--without`,
// e.g. a build of the commit before them), interleaved, medians.
//
//   node bench/diagnose.mjs --log-mib 16 --keep     # prints PM2_HOME=... DEVCTL_ROOT=...
//   PM2_HOME=... DEVCTL_ROOT=... node bench/diagnose-config.mjs --without <other devctl bin> [--runs 7]
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devctlBin, median } from './_lib.mjs';

const { values: args } = parseArgs({
  options: { without: { type: 'string' }, runs: { type: 'string', default: '7' } },
});
const root = process.env.DEVCTL_ROOT;
if (!root || !process.env.PM2_HOME || !args.without) {
  console.error(
    'usage: PM2_HOME=... DEVCTL_ROOT=... node bench/diagnose-config.mjs --without <devctl bin> [--runs 7]',
  );
  process.exit(2);
}
const env = { ...process.env, NO_COLOR: '1' };
const cache = join(root, 'node_modules', '.cache', 'devctl', 'config-checks.json');

function run(bin) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [bin, 'diagnose', '--json'], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0)
    throw new Error(`${bin} diagnose exited ${result.status}: ${result.stdout.slice(0, 500)}`);
  return { ms, checked: JSON.parse(result.stdout).checked.join('\n') };
}
const timed = (bin) => run(bin).ms;

/** Runs diagnose until every dry run is cached (a loaded machine may not finish them in one budget). */
function warmUp() {
  for (let i = 0; i < 6; i++) {
    if (/ (\d+) services? \(\1 from the cache\)/.test(run(devctlBin).checked)) return;
  }
  throw new Error('the dry-run cache did not fill in 6 runs');
}

const samples = { without: [], warm: [], cold: [] };
warmUp();
for (let i = 0; i < Math.max(3, Number(args.runs)); i++) {
  samples.without.push(timed(args.without));
  samples.warm.push(timed(devctlBin));
  rmSync(cache, { force: true });
  samples.cold.push(timed(devctlBin));
  warmUp(); // the cache warm again for the next warm run
}
const base = median(samples.without);
for (const [name, values] of Object.entries(samples)) {
  const m = median(values);
  console.log(
    `${name.padEnd(8)} median ${m.toFixed(0)} ms (${name === 'without' ? 'baseline' : `${m - base >= 0 ? '+' : ''}${(m - base).toFixed(0)} ms`}) runs ${values.map((v) => v.toFixed(0)).join(' ')}`,
  );
}
