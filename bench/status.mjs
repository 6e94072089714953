#!/usr/bin/env node
// Benchmark: `devctl status --json` against `node <pm2 bin> jlist` and `node -e 0`, on the same
// daemon (a private PM2_HOME running the real seven services on free ports), interleaved, medians.
// status does more than jlist (a live /health probe of every service) and prints no environment.
// Targets: status <= 0.6x jlist, and <= 2x node -e 0.
//
//   node bench/status.mjs [--runs 15]
import { parseArgs } from 'node:util';
import {
  buildAll,
  createPm2Home,
  devctlBin,
  median,
  pm2Bin,
  printRatio,
  timeCommand,
  waitAllHealthy,
  writeStackEcosystems,
} from './_lib.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Math.max(5, Number(args.runs));

buildAll();
const stack = await writeStackEcosystems();
const home = createPm2Home();
const env = { ...home.env, DEVCTL_ROOT: stack.devctlRoot() };

const commands = {
  status: [devctlBin, 'status', '--json'],
  jlist: [pm2Bin, 'jlist'],
  node: ['-e', '0'],
};

try {
  home.launchDaemon();
  const started = timeCommand(process.execPath, [devctlBin, 'start', '--wait', '--no-build'], { env });
  if (started.code !== 0) throw new Error(`devctl start failed:\n${started.stdout}${started.stderr}`);
  await waitAllHealthy(stack.ports, 5000);
  const times = { status: [], jlist: [], node: [] };
  for (let i = 0; i < runs + 1; i++) {
    for (const [name, argv] of Object.entries(commands)) {
      const result = timeCommand(process.execPath, argv, { env });
      if (result.code !== 0) throw new Error(`${name} failed: ${result.stderr}`);
      if (name === 'status') {
        const report = JSON.parse(result.stdout);
        const healthy = report.services.filter((s) => s.health?.ok).length;
        // Every service of the ecosystem, however many `devctl new service` added.
        const expected = stack.ports.length;
        if (healthy !== expected) throw new Error(`status saw ${healthy} healthy services, not ${expected}`);
      }
      if (i > 0) times[name].push(result.ms); // the first round warms the file cache
    }
  }
  console.log(`status.mjs: ${stack.ports.length} services online, ${runs} interleaved runs, medians`);
  printRatio('devctl status --json', median(times.status), 'node <pm2 bin> jlist', median(times.jlist), 0.6);
  printRatio('devctl status --json', median(times.status), 'node -e 0', median(times.node), 2);
} finally {
  timeCommand(process.execPath, [devctlBin, 'delete', 'all'], { env });
  await home.cleanup();
  stack.cleanup();
}
