#!/usr/bin/env node
// Benchmark: bringing up the real seven services under PM2, devctl against the seed's style,
// measured side by side in the same run on the same (private) daemon and the same free ports:
//   - time from an empty daemon to all seven healthy:
//       devctl: `devctl start --wait --no-build` (dependency order, returns once all answer /health)
//       seed:   `pm2 start <ecosystem>` with `script: 'npm', args: 'start'` entries whose start
//               script is `tsx src/index.ts`, then polling every /health until all answer
//     target: devctl <= 0.45x seed
//   - whole-stack resident memory once healthy (every process of each service + the daemon);
//     target: devctl <= 0.4x seed
//   - restarting one service until it is healthy again:
//       devctl: `devctl restart form-service --wait --no-build` (logs since + diagnose verdict)
//       seed:   `pm2 restart form-service`, then polling its /health
//     target: devctl <= 0.6x seed
// Medians of --runs (>= 5) interleaved rounds; the order of the two styles alternates each round.
//
//   node bench/start.mjs [--runs 5] [--npm-script built]
//
// --npm-script built: the npm entries run today's start script (`node dist/index.js`) instead of
// the seed's tsx, a stricter anchor (npm -> sh -> node).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildAll,
  createPm2Home,
  devctlBin,
  healthBody,
  median,
  pm2Bin,
  printRatio,
  round,
  sleep,
  stackRss,
  timeCommand,
  waitAllHealthy,
  waitNewServer,
  waitPortsFree,
  writeStackEcosystems,
} from './_lib.mjs';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, 'npm-script': { type: 'string', default: 'tsx' } },
});
const runs = Math.max(5, Number(args.runs));
const RESTARTED = 'form-service';

buildAll();
const stack = await writeStackEcosystems(
  args['npm-script'] === 'built'
    ? { npmScript: (app) => `node --enable-source-maps ${join(app.cwd, 'dist', 'index.js')}` }
    : {},
);
const home = createPm2Home();
const devctlRoot = stack.devctlRoot();
const devctlEnv = { ...home.env, DEVCTL_ROOT: devctlRoot };
const restartPort = stack.portOf[RESTARTED];

const figures = {
  devctlStart: [],
  npmStart: [],
  devctlRss: [],
  npmRss: [],
  devctlRestart: [],
  npmRestart: [],
  devctlProcs: 0,
  npmProcs: 0,
};

function must(result, what) {
  if (result.code !== 0)
    throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function devctlRound() {
  const start = must(
    timeCommand(process.execPath, [devctlBin, 'start', '--wait', '--no-build'], { env: devctlEnv }),
    'devctl start',
  );
  await waitAllHealthy(stack.ports, 5000);
  figures.devctlStart.push(start.ms);
  await sleep(1500);
  const rss = stackRss(home.env, home.daemonPid(), 'bench-devctl');
  figures.devctlRss.push(rss.bytes);
  figures.devctlProcs = rss.processes;
  const restart = must(
    timeCommand(process.execPath, [devctlBin, 'restart', RESTARTED, '--wait', '--no-build'], {
      env: devctlEnv,
    }),
    'devctl restart',
  );
  figures.devctlRestart.push(restart.ms);
  must(timeCommand(process.execPath, [devctlBin, 'delete', 'all'], { env: devctlEnv }), 'devctl delete');
  await waitPortsFree(stack.ports);
}

async function npmRound() {
  const started = performance.now();
  must(timeCommand(process.execPath, [pm2Bin, 'start', stack.npmConfig], { env: home.env }), 'pm2 start');
  await waitAllHealthy(stack.ports, 60_000);
  figures.npmStart.push(performance.now() - started);
  await sleep(1500);
  const rss = stackRss(home.env, home.daemonPid(), 'bench-npm');
  figures.npmRss.push(rss.bytes);
  figures.npmProcs = rss.processes;
  const oldPid = (await healthBody(restartPort)).body?.pid;
  const restartStarted = performance.now();
  must(timeCommand(process.execPath, [pm2Bin, 'restart', RESTARTED], { env: home.env }), 'pm2 restart');
  const { oldAnswers } = await waitNewServer(restartPort, oldPid, 60_000);
  figures.npmRestart.push(performance.now() - restartStarted);
  if (oldAnswers > 0) figures.npmOldServerAnswered++;
  must(timeCommand(process.execPath, [pm2Bin, 'delete', 'all'], { env: home.env }), 'pm2 delete');
  await waitPortsFree(stack.ports);
}

try {
  home.launchDaemon();
  // One warm-up round of each (file caches, tsx's compile cache), not counted.
  await devctlRound();
  await npmRound();
  for (const key of Object.keys(figures)) if (Array.isArray(figures[key])) figures[key] = [];
  figures.npmOldServerAnswered = 0;
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`round ${i + 1}/${runs}\n`);
    if (i % 2 === 0) {
      await devctlRound();
      await npmRound();
    } else {
      await npmRound();
      await devctlRound();
    }
  }
  const mib = (bytes) => round(bytes / 1024 / 1024);
  const anchor =
    args['npm-script'] === 'built' ? 'npm start (node dist) style' : 'seed npm start (tsx) style';
  console.log(`start.mjs: seven services, ${runs} rounds, medians (PM2_HOME private, free ports)`);
  printRatio(
    'devctl start --wait, empty daemon to 7 healthy',
    median(figures.devctlStart),
    anchor,
    median(figures.npmStart),
    0.45,
  );
  const devctlRss = median(figures.devctlRss);
  const npmRss = median(figures.npmRss);
  console.log(
    `whole-stack RSS: devctl ${mib(devctlRss)} MiB (${figures.devctlProcs} processes) vs ${anchor} ${mib(npmRss)} MiB (${figures.npmProcs} processes) = ${round(devctlRss / npmRss, 2)}x  (target <= 0.4: ${devctlRss / npmRss <= 0.4 ? 'met' : 'NOT met'})`,
  );
  printRatio(
    `devctl restart ${RESTARTED} --wait`,
    median(figures.devctlRestart),
    `${anchor} pm2 restart + /health`,
    median(figures.npmRestart),
    0.6,
  );
  console.log(
    `  samples (ms): devctl start ${figures.devctlStart.map((v) => round(v)).join(' ')} | npm start ${figures.npmStart.map((v) => round(v)).join(' ')}`,
  );
  console.log(
    `  ${anchor}: the old server still answered after \`pm2 restart\` returned in ${figures.npmOldServerAnswered} of ${runs} restarts`,
  );
  console.log(
    `  samples (ms): devctl restart ${figures.devctlRestart.map((v) => round(v)).join(' ')} | npm restart ${figures.npmRestart.map((v) => round(v)).join(' ')}`,
  );
} finally {
  spawnSync(process.execPath, [pm2Bin, 'delete', 'all'], { env: home.env, stdio: 'ignore' });
  await home.cleanup();
  stack.cleanup();
}
