#!/usr/bin/env node
// Benchmark: does devctl scale with the number of services? Generated projects of 7 and 50 tiny
// independent services (the test fixture: a node:http server with /health that tells PM2 'ready'),
// each `devctl start --wait --no-build` from an empty daemon, interleaved, medians; the figure is
// the time per service at 50 against the time per service at 7 (target <= 1.1x). `devctl status
// --json` at 50 and 7 services is printed alongside.
//
//   node bench/scale.mjs [--runs 5]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createPm2Home,
  devctlBin,
  devctlDir,
  freePorts,
  median,
  round,
  timeCommand,
  waitAllHealthy,
  waitPortsFree,
} from './_lib.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(5, Number(args.runs));
const server = join(devctlDir, 'test', 'fixtures', 'stack', 'server.js');

async function project(count) {
  const root = mkdtempSync(join(tmpdir(), `devctl-bench-scale-${count}-`));
  const ports = await freePorts(count);
  const apps = ports.map((port, i) => {
    const name = `svc-${String(i + 1).padStart(2, '0')}`;
    const cwd = join(root, 'services', name);
    mkdirSync(cwd, { recursive: true });
    copyFileSync(server, join(cwd, 'server.js'));
    return {
      name,
      namespace: `scale-${count}`,
      cwd,
      script: 'server.js',
      out_file: join(cwd, 'logs', 'out.log'),
      error_file: join(cwd, 'logs', 'error.log'),
      time: true,
      wait_ready: true,
      listen_timeout: 10000,
      pmx: false,
      automation: false,
      env: { PORT: String(port), FIXTURE_NAME: name },
    };
  });
  writeFileSync(
    join(root, 'ecosystem.config.js'),
    `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`,
  );
  return { root, ports, count, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const home = createPm2Home();
const projects = [await project(7), await project(50)];
const times = { 7: [], 50: [] };
const statusTimes = { 7: [], 50: [] };

async function round7or50(p, record) {
  const env = { ...home.env, DEVCTL_ROOT: p.root };
  const start = timeCommand(process.execPath, [devctlBin, 'start', '--wait', '--no-build'], { env });
  if (start.code !== 0) throw new Error(`devctl start (${p.count}) failed:\n${start.stdout}${start.stderr}`);
  await waitAllHealthy(p.ports, 5000);
  const status = timeCommand(process.execPath, [devctlBin, 'status', '--json'], { env });
  if (record) {
    times[p.count].push(start.ms);
    statusTimes[p.count].push(status.ms);
  }
  const removed = timeCommand(process.execPath, [devctlBin, 'delete', 'all'], { env });
  if (removed.code !== 0) throw new Error(`devctl delete failed: ${removed.stderr}`);
  await waitPortsFree(p.ports);
}

try {
  home.launchDaemon();
  for (const p of projects) await round7or50(p, false); // warm-up
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? projects : [...projects].reverse();
    for (const p of order) await round7or50(p, true);
  }
  const per7 = median(times[7]) / 7;
  const per50 = median(times[50]) / 50;
  console.log(`scale.mjs: tiny independent services, ${runs} interleaved rounds, medians`);
  console.log(
    `devctl start --wait: 7 services ${round(median(times[7]))} ms (${round(per7, 1)} ms/service), 50 services ${round(median(times[50]))} ms (${round(per50, 1)} ms/service)`,
  );
  const ratio = per50 / per7;
  console.log(
    `time per service at 50 vs at 7: ${round(ratio, 2)}x  (target <= 1.1: ${ratio <= 1.1 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `devctl status --json: 7 services ${round(median(statusTimes[7]))} ms, 50 services ${round(median(statusTimes[50]))} ms`,
  );
} finally {
  for (const p of projects) {
    timeCommand(process.execPath, [devctlBin, 'delete', 'all'], {
      env: { ...home.env, DEVCTL_ROOT: p.root },
    });
  }
  await home.cleanup();
  for (const p of projects) p.cleanup();
}
