#!/usr/bin/env node
// Benchmark: `devctl diagnose --json` on a stack WITH faults, against `node -e 0` measured in the
// same run, interleaved (target: diagnose <= 5x node -e 0, issue #14 item 8). The stack is the
// diagnose test fixture (real processes under a private PM2 daemon, the service kit, source maps):
//   catalog        healthy
//   inventory      stopped (a stop someone asked for)
//   orders         depends on inventory: its request answered 502
//   orders-boom    a handler that throws: 500s
//   orders-start   throws at start: crash loop until PM2 gives up
//   billing        a required variable missing: config error, exit 78
//   orders-ready   online, /ready fails (a folder it cannot write)
// With --slow it also measures, apart, the faults whose diagnosis needs time by design: a leak
// (memory watched ~1 s) and a busy-looping event loop (probes time out, CPU sampled, stack read).
// With --baseline <devctl.js of another checkout> it times that bin too, in the same interleaved
// rounds (before/after on the same stack and the same machine load).
// With --real it measures the real seven services instead (built, on free ports, a private PM2
// home): data-service stopped, and a login through the gateway that failed with 502 meanwhile.
//
//   node bench/diagnose-faults.mjs [--runs 9] [--slow] [--real] [--baseline <bin>] [--keep]
//
// Build devctl first (pnpm --filter @repo/devctl build): the bench runs the real bin.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildAll,
  createPm2Home,
  devctlBin,
  devctlDir,
  freePorts,
  httpStatus,
  killPm2DaemonSync,
  kitPackages,
  linkKitPackages,
  median,
  pm2Bin,
  repo,
  sleep,
  writeStackEcosystems,
} from './_lib.mjs';

const fixture = join(devctlDir, 'test', 'fixtures', 'diagnose');
const kitDir = join(repo, 'packages', 'service-kit');
const { build } = createRequire(join(devctlDir, 'package.json'))('esbuild');
const KIT_PACKAGES = kitPackages(kitDir);

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    slow: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    real: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const runs = Math.max(5, Number(args.runs));

const FAULTY = [
  { name: 'catalog', folder: 'catalog' },
  { name: 'inventory', folder: 'catalog' },
  {
    name: 'orders',
    folder: 'orders',
    dependsOn: ['inventory'],
    env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:inventory}}' },
  },
  { name: 'orders-boom', folder: 'orders' },
  {
    name: 'orders-start',
    folder: 'orders',
    env: { FAULT: 'start-throw' },
    maxRestarts: 2,
    minUptime: 60_000,
  },
  { name: 'billing', folder: 'billing' },
  { name: 'orders-ready', folder: 'orders', env: { FAULT: 'not-ready' } },
];
const SLOW = [
  { name: 'orders-leak', folder: 'orders', env: { FAULT: 'leak' }, maxMemoryRestart: '4G' },
  { name: 'orders-spin', folder: 'orders', env: { FAULT: 'busy-loop', NODE_OPTIONS: '--inspect-port=0' } },
];

function timed(argv, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

function pm2Status(env, name) {
  const out = execFileSync(process.execPath, [pm2Bin, 'jlist'], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const app = JSON.parse(out.slice(out.indexOf('['))).find((p) => p.name === name);
  return (
    app && {
      status: app.pm2_env.status,
      gaveUp: app.pm2_env.created_at === null,
      uptimeMs: Date.now() - app.pm2_env.pm_uptime,
    }
  );
}

async function waitFor(what, check, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Interleaved medians of `diagnose --json <names>` (this bin, and the baseline's) and `node -e 0`. */
function measure(env, names) {
  const bins = [devctlBin, ...(args.baseline ? [args.baseline] : [])];
  timed(['-e', '0'], env);
  const reports = bins.map((bin) =>
    JSON.parse(timed([bin, 'diagnose', '--json', ...names], env).result.stdout),
  );
  const anchor = [];
  const times = bins.map(() => []);
  for (let i = 0; i < runs; i++) {
    anchor.push(timed(['-e', '0'], env).ms);
    for (const [index, bin] of bins.entries()) {
      times[index].push(timed([bin, 'diagnose', '--json', ...names], env).ms);
    }
  }
  return bins.map((bin, index) => ({ bin, report: reports[index], anchor, diagnose: times[index] }));
}

const mean = (list) => list.reduce((sum, ms) => sum + ms, 0) / list.length;

function print(label, measured, target) {
  let ratio;
  for (const [index, { bin, report, anchor, diagnose }] of measured.entries()) {
    const anchorMs = median(anchor);
    const diagnoseMs = median(diagnose);
    const r = diagnoseMs / anchorMs;
    if (index === 0) ratio = r;
    const name = index === 0 ? label : `  baseline ${bin}`;
    console.log(
      `${name.padEnd(34)} diagnose ${diagnoseMs.toFixed(0).padStart(5)} ms | node -e 0 ${anchorMs.toFixed(0).padStart(3)} ms | median ${r.toFixed(2).padStart(5)}x${target ? ` (target <= ${target}x: ${r <= target ? 'met' : 'NOT met'})` : ''}`,
    );
    console.log(
      `  means: diagnose ${mean(diagnose).toFixed(0)} ms, node -e 0 ${mean(anchor).toFixed(0)} ms (${(mean(diagnose) / mean(anchor)).toFixed(2)}x); slowest diagnose ${Math.max(...diagnose).toFixed(0)} ms`,
    );
    console.log(`  findings: ${report.findings.map((f) => `${f.service}:${f.kind}`).join(' ')}`);
    console.log(
      `  runs (ms): diagnose ${diagnose.map((ms) => ms.toFixed(0)).join(' ')} | node -e 0 ${anchor.map((ms) => ms.toFixed(0)).join(' ')}`,
    );
  }
  return ratio;
}

function post(port, path, body) {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', () => resolve(0));
    req.end(JSON.stringify(body));
  });
}

/** The real seven services: data-service stopped, a login through the gateway failed meanwhile. */
async function realStack() {
  buildAll();
  const stack = await writeStackEcosystems();
  const home = createPm2Home();
  const env = { ...home.env, DEVCTL_ROOT: stack.devctlRoot() };
  try {
    execFileSync(process.execPath, [devctlBin, 'start', 'all', '--wait'], { env, stdio: 'ignore' });
    execFileSync(process.execPath, [devctlBin, 'stop', 'data-service'], { env, stdio: 'ignore' });
    const status = await post(stack.portOf['api-gateway'], '/api/auth/login', {
      email: 'someone@example.com',
      password: 'correct-horse-battery',
    });
    if (status < 500) throw new Error(`the login through the gateway answered ${status}, not a 5xx`);
    // Past start-up (memory younger than 8 s is not judged), as on a stack running a while.
    await sleep(9000);
    if (args.keep) {
      console.log(`stack kept: PM2_HOME=${home.home} DEVCTL_ROOT=${env.DEVCTL_ROOT}`);
      return;
    }
    console.log(
      `diagnose --json vs node -e 0, medians of ${runs} interleaved runs (${new Date().toISOString()})`,
    );
    const ratio = print('real stack, data-service stopped', measure(env, []), 5);
    process.exitCode = ratio <= 5 ? 0 : 1;
  } finally {
    if (!args.keep) {
      await home.cleanup();
      stack.cleanup();
    }
  }
}

async function main() {
  if (args.real) return realStack();
  const apps = args.slow ? [...FAULTY, ...SLOW] : FAULTY;
  const root = mkdtempSync(join(tmpdir(), 'devctl-bench-faults-'));
  const home = mkdtempSync(join(tmpdir(), 'devctl-bench-pm2-'));
  const cleanup = () => {
    killPm2DaemonSync(home);
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  };
  try {
    cpSync(join(fixture, 'services'), join(root, 'services'), {
      recursive: true,
      filter: (source) => !/[/\\](dist|logs|node_modules)$/.test(source),
    });
    cpSync(join(fixture, 'ecosystem.config.js'), join(root, 'ecosystem.config.js'));
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
    mkdirSync(join(root, 'node_modules', '@repo'), { recursive: true });
    linkKitPackages(kitDir, root);
    symlinkSync(kitDir, join(root, 'node_modules', '@repo', 'service-kit'), 'dir');
    for (const folder of new Set(apps.map((app) => app.folder))) {
      await build({
        absWorkingDir: join(root, 'services', folder),
        entryPoints: ['src/index.ts'],
        outfile: 'dist/index.js',
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        sourcemap: true,
        sourcesContent: false,
        alias: { '@repo/service-kit': join(kitDir, 'src', 'index.ts') },
        external: KIT_PACKAGES,
        logLevel: 'error',
      });
    }
    const portList = await freePorts(apps.length);
    const ports = Object.fromEntries(apps.map((app, i) => [app.name, portList[i]]));
    const stackApps = apps.map((app) => ({
      ...app,
      port: ports[app.name],
      env: Object.fromEntries(
        Object.entries(app.env ?? {}).map(([k, v]) => [
          k,
          v.replace(/\{\{port:([\w-]+)\}\}/g, (_, n) => String(ports[n])),
        ]),
      ),
    }));
    writeFileSync(
      join(root, 'stack.json'),
      JSON.stringify({ namespace: 'bench-faults', apps: stackApps }, null, 2),
    );
    const env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([key]) => !/^(PM2_|DEVCTL_|NODE_OPTIONS)/.test(key)),
      ),
      PM2_HOME: home,
      PM2_NO_INTERACTION: 'true',
      PM2_DISCRETE_MODE: 'true',
      DEVCTL_ROOT: root,
      NO_COLOR: '1',
    };
    execFileSync(process.execPath, [pm2Bin, 'start', 'ecosystem.config.js'], {
      cwd: root,
      env,
      stdio: 'ignore',
    });
    for (const name of ['catalog', 'inventory', 'orders', 'orders-boom']) {
      await waitFor(`${name} healthy`, async () => (await httpStatus(ports[name])) === 200);
    }
    execFileSync(process.execPath, [pm2Bin, 'stop', 'inventory'], { cwd: root, env, stdio: 'ignore' });
    await httpStatus(ports.orders, '/orders/42');
    await httpStatus(ports['orders-boom'], '/boom');
    await waitFor('orders-start given up by PM2', () => pm2Status(env, 'orders-start')?.gaveUp === true);
    // Past start-up (diagnose does not judge memory younger than 8 s), as on a stack running a while.
    await waitFor('the stack past its start-up', () => (pm2Status(env, 'catalog')?.uptimeMs ?? 0) >= 9000);

    if (args.keep) {
      console.log(
        `stack kept: PM2_HOME=${home} DEVCTL_ROOT=${root} (kill $(cat ${home}/pm2.pid) and rm -rf both when done)`,
      );
      return;
    }
    console.log(
      `diagnose --json vs node -e 0, medians of ${runs} interleaved runs (${new Date().toISOString()})`,
    );
    const faulty = FAULTY.map((app) => app.name);
    const ratio = print('5 faults, 7 services', measure(env, faulty), 5);
    if (args.slow) {
      print('a leak (memory watched)', measure(env, ['orders-leak']));
      print('a busy loop (probes time out)', measure(env, ['orders-spin']));
    }
    process.exitCode = ratio <= 5 ? 0 : 1;
  } finally {
    if (!args.keep) cleanup();
  }
}

await main();
