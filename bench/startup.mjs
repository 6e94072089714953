#!/usr/bin/env node
// Benchmark: how fast each of the seven services starts, i.e. the part of PM2's kill -9 -> healthy
// that is Node's (docs/reliability.md, "Crash recovery"): from spawning
// `node [--enable-source-maps] <build>/index.js` in services/<x> to its first 200 on /health.
// Build layouts compared side by side, each built by the real `service-build` into its own folder
// next to dist/ (dist/ is never touched, a running stack keeps its files):
//   external       `--packages external`: the build before bundling, every npm package loaded from
//                  node_modules file by file (the anchor of the ratios)
//   bundle         `--packages bundle`, what a service's dist/ is today: dependencies bundled in,
//                  whitespace/syntax-minified, source map of the TypeScript only
//   bundle-depmaps the same with the npm packages' mappings kept (what dropping them is worth)
//   bundle-full    the same unminified (what minifying is worth)
// `+maps`: run with --enable-source-maps, as PM2's node_args do today; without it, what the flag
// costs. A bare node:http server on the same polling gives the floor (spawn + Node's start-up).
// One process at a time; in every round each service runs every variant once, the order of the
// variants rotating from round to round; a warm-up round (not counted) creates the database.
// Every child is killed by PID; ports are free ports; the database and outbox are throwaway.
//
//   node bench/startup.mjs [--runs 7] [--services data,form]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, httpStatus, median, processTree, repo, round, sleep } from './_lib.mjs';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, services: { type: 'string' } },
});
const runs = Math.max(7, Number(args.runs));
const serviceBuild = join(repo, 'packages', 'service-kit', 'bin', 'service-build.mjs');
const servicesDir = join(repo, 'services');
const folders = readdirSync(servicesDir)
  .filter((f) => existsSync(join(servicesDir, f, 'src', 'index.ts')))
  .filter((f) => !args.services || args.services.split(',').includes(f));

const BUILDS = {
  external: ['--packages', 'external'],
  bundle: ['--packages', 'bundle'],
  'bundle-depmaps': ['--packages', 'bundle', '--dependency-maps'],
  'bundle-full': ['--packages', 'bundle', '--no-minify'],
};
const MAPS = ['--enable-source-maps'];
const VARIANTS = [
  { label: 'external+maps', build: 'external', nodeArgs: MAPS },
  { label: 'external', build: 'external', nodeArgs: [] },
  { label: 'bundle+maps', build: 'bundle', nodeArgs: MAPS },
  { label: 'bundle', build: 'bundle', nodeArgs: [] },
  { label: 'bundle-depmaps+maps', build: 'bundle-depmaps', nodeArgs: MAPS },
  { label: 'bundle-full+maps', build: 'bundle-full', nodeArgs: MAPS },
];
const ANCHOR = 'external+maps';
const FLOOR = 'node:http floor';

// One folder below the service, like dist/, so the service's `new URL('..', import.meta.url)` is
// its own folder and bare imports resolve from its node_modules (pnpm's strict layout).
const outdirOf = (build) => `.startup-bench-${build}`;

function buildVariants() {
  for (const folder of folders) {
    for (const [build, flags] of Object.entries(BUILDS)) {
      const result = spawnSync(process.execPath, [serviceBuild, '--outdir', outdirOf(build), ...flags], {
        cwd: join(servicesDir, folder),
        encoding: 'utf8',
      });
      if (result.status !== 0)
        throw new Error(`service-build ${flags.join(' ')} failed in services/${folder}:\n${result.stderr}`);
    }
  }
}

function removeVariants() {
  for (const folder of folders)
    for (const build of Object.keys(BUILDS))
      rmSync(join(servicesDir, folder, outdirOf(build)), { recursive: true, force: true });
}

const scratch = mkdtempSync(join(tmpdir(), 'startup-bench-'));
const closedPort = await freePort();
const closedUrl = `http://127.0.0.1:${closedPort}`;

/** The environment the test stack gives a service (packages/test-utils/src/stack.ts). */
function environment(variant) {
  const dir = join(scratch, variant);
  mkdirSync(join(dir, 'outbox'), { recursive: true });
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    JWT_SECRET: 'startup-bench-secret-0123456789abcdef0123456789abcdef',
    DATABASE_FILE: join(dir, 'devstack.db'),
    EMAIL_OUTBOX_DIR: join(dir, 'outbox'),
    DATA_SERVICE_URL: closedUrl,
    EMAIL_SERVICE_URL: closedUrl,
    AUTH_SERVICE_URL: closedUrl,
    FORM_SERVICE_URL: closedUrl,
  };
}

const FLOOR_SCRIPT =
  "require('node:http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT),'127.0.0.1')";

/** Spawns one server on a free PORT and resolves with the ms from spawn to its first 200 on /health; kills it by PID. */
async function timeStart(cwd, argv, env) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${argv.join(' ')} in ${cwd} exited (${child.exitCode}) before /health:\n${stderr}`);
      if ((await httpStatus(port, '/health', 1000)) === 200) return performance.now() - started;
      if (Date.now() > deadline)
        throw new Error(`${argv.join(' ')} in ${cwd}: no /health in 30 s\n${stderr}`);
      await sleep(5);
    }
  } finally {
    for (const pid of processTree(child.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await exited;
  }
}

const samples = {};
const record = (folder, label, ms) => {
  samples[folder] ??= {};
  samples[folder][label] ??= [];
  samples[folder][label].push(ms);
};

async function measureRound(index, counted) {
  for (const folder of folders) {
    const cwd = join(servicesDir, folder);
    const order = VARIANTS.map((_, i) => VARIANTS[(i + index) % VARIANTS.length]);
    for (const variant of order) {
      const ms = await timeStart(
        cwd,
        [...variant.nodeArgs, join(outdirOf(variant.build), 'index.js')],
        environment(variant.label),
      );
      if (counted) record(folder, variant.label, ms);
    }
    const floor = await timeStart(scratch, ['-e', FLOOR_SCRIPT], { PATH: process.env.PATH });
    if (counted) record(folder, FLOOR, floor);
  }
}

const kib = (bytes) => `${round(bytes / 1024)} KiB`;
const sizeOf = (folder, build, file) => statSync(join(servicesDir, folder, outdirOf(build), file)).size;

const cleanupAndExit = () => {
  removeVariants();
  rmSync(scratch, { recursive: true, force: true });
  process.exit(130);
};
process.once('SIGINT', cleanupAndExit);

try {
  process.stderr.write(`building ${Object.keys(BUILDS).length} layouts of ${folders.length} services\n`);
  buildVariants();
  const loadBefore = loadavg();
  process.stderr.write('warm-up round\n');
  await measureRound(0, false);
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`round ${i + 1}/${runs}\n`);
    await measureRound(i + 1, true);
  }
  const loadAfter = loadavg();

  const labels = [...VARIANTS.map((v) => v.label), FLOOR];
  const header = ['service', ...labels];
  const rows = folders.map((folder) => {
    const anchor = median(samples[folder][ANCHOR]);
    return [
      folder,
      ...labels.map((label) => {
        const value = median(samples[folder][label]);
        return label === ANCHOR ? `${round(value)} ms` : `${round(value)} ms ${round(value / anchor, 2)}x`;
      }),
    ];
  });
  const sumOf = (label) => folders.reduce((sum, folder) => sum + median(samples[folder][label]), 0);
  const anchorSum = sumOf(ANCHOR);
  rows.push([
    'sum of medians',
    ...labels.map((label) =>
      label === ANCHOR
        ? `${round(anchorSum)} ms`
        : `${round(sumOf(label))} ms ${round(sumOf(label) / anchorSum, 2)}x`,
    ),
  ]);
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((r) => r[c].length)));
  const line = (cells) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;

  console.log(
    `startup.mjs: spawn -> first 200 on /health, median of ${runs} runs per cell, ratio vs ${ANCHOR} (the build before bundling, as PM2 runs it)`,
  );
  console.log(
    `Node ${process.version}, load average ${loadBefore.map((l) => round(l, 1)).join(' / ')} before, ${loadAfter.map((l) => round(l, 1)).join(' / ')} after (1/5/15 min)`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('bundle sizes (index.js + index.js.map):');
  for (const folder of folders) {
    const sizes = Object.keys(BUILDS).map(
      (build) =>
        `${build} ${kib(sizeOf(folder, build, 'index.js'))} + ${kib(sizeOf(folder, build, 'index.js.map'))}`,
    );
    console.log(`  ${folder}: ${sizes.join(', ')}`);
  }
} finally {
  removeVariants();
  rmSync(scratch, { recursive: true, force: true });
}
