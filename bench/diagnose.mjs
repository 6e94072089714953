#!/usr/bin/env node
// Benchmark: `devctl diagnose --json` on a seven-service stack under PM2 whose logs hold 1 GiB in
// all, against `node -e 0` measured in the same run, interleaved (target: diagnose <= 5x node -e 0).
// The services are the diagnose test fixture (real processes, the service kit, source maps); the
// logs are realistic lines (pino JSON, PM2 time prefixes, multi-line stack traces) written before
// the start, so every error in them is older than the start: noise that diagnose must not report.
//
//   node bench/diagnose.mjs [--runs 7] [--log-mib 1024] [--keep]
//
// --keep leaves the stack running and prints the environment to reach it (kill the daemon after).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  devctlBin,
  devctlDir,
  freePort,
  killPm2DaemonSync,
  kitPackages,
  linkKitPackages,
  median,
  pm2Bin,
  repo,
} from './_lib.mjs';

const fixture = join(devctlDir, 'test', 'fixtures', 'diagnose');
const kitDir = join(repo, 'packages', 'service-kit');
const requireFromDevctl = createRequire(join(devctlDir, 'package.json'));
const { build } = requireFromDevctl('esbuild');
const KIT_PACKAGES = kitPackages(kitDir);

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'log-mib': { type: 'string', default: '1024' },
    keep: { type: 'boolean', default: false },
  },
});
const runs = Math.max(5, Number(args.runs));
const logBytes = Number(args['log-mib']) * 1024 * 1024;

const SERVICES = [
  ['data-service', []],
  ['email-service', []],
  ['auth-service', ['data-service']],
  ['form-service', ['data-service']],
  ['worker-service', ['data-service', 'email-service']],
  ['scheduler-service', ['data-service']],
  ['api-gateway', ['auth-service', 'form-service', 'data-service']],
];

const pad = (n, width = 2) => String(n).padStart(width, '0');
function pm2Prefix(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}: `;
}

/** About 1 MiB of realistic log text: pino lines, and for error logs multi-line stack traces. */
function logChunk(service, stream, start) {
  const lines = [];
  let size = 0;
  let time = start;
  while (size < 1024 * 1024) {
    time += 37;
    const date = new Date(time);
    const prefix = pm2Prefix(date);
    let line;
    if (stream === 'out') {
      const id = (time % 100000).toString(36);
      line = `${prefix}{"level":30,"time":"${date.toISOString()}","service":"${service}","pid":4242,"reqId":"req-${id}","req":{"method":"POST","url":"/forms/${id}/submissions","host":"127.0.0.1:3000","remoteAddress":"127.0.0.1"},"msg":"incoming request"}\n`;
    } else {
      const stack = [
        `TypeError: Cannot read properties of undefined (reading 'title')`,
        `    at renderSubject (/srv/project/services/form/src/routes/submit.ts:41:27)`,
        `    at Object.handler (/srv/project/services/form/src/routes/submit.ts:18:11)`,
        `    at preHandlerCallbackInner (/srv/project/node_modules/fastify/lib/handle-request.js:190:24)`,
        `    at handler (/srv/project/node_modules/fastify/lib/handle-request.js:99:7)`,
      ].join('\\n');
      line = `${prefix}{"level":50,"time":"${date.toISOString()}","service":"${service}","pid":4242,"err":{"type":"TypeError","message":"Cannot read properties of undefined (reading 'title')","stack":"${stack}"},"method":"POST","url":"/forms/x/submissions","msg":"unhandled error in POST /forms/x/submissions"}\n`;
      if (time % 5 === 0) {
        // Node's own multi-line report, one PM2 prefix per line.
        line += [
          'file:///srv/project/services/form/dist/index.js:12',
          '    throw new Error("boom");',
          '    ^',
          '',
          'Error: boom',
          '    at file:///srv/project/services/form/src/index.ts:12:11',
          '    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)',
          '',
          'Node.js v20.20.2',
        ]
          .map((text) => `${prefix}${text}\n`)
          .join('');
      }
    }
    lines.push(line);
    size += line.length;
  }
  return { text: lines.join(''), end: time };
}

function writeLog(file, service, stream, bytes) {
  mkdirSync(join(file, '..'), { recursive: true });
  const fd = openSync(file, 'w');
  // Yesterday: every line is older than the start, as history is.
  let time = Date.now() - 26 * 3600 * 1000;
  let written = 0;
  let chunk = logChunk(service, stream, time);
  try {
    while (written < bytes) {
      writeSync(fd, chunk.text);
      written += Buffer.byteLength(chunk.text);
      time = chunk.end;
      // Vary timestamps every few MiB without rebuilding every chunk.
      if (written % (8 * 1024 * 1024) < 1024 * 1024) chunk = logChunk(service, stream, time);
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

function get(url, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve(0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

function timed(command, argv, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, argv, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, result };
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'devctl-bench-diagnose-'));
  const home = mkdtempSync(join(tmpdir(), 'devctl-bench-pm2-'));
  const cleanup = () => {
    killPm2DaemonSync(home);
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  };
  try {
    cpSync(join(fixture, 'services', 'catalog'), join(root, 'services', 'catalog'), {
      recursive: true,
      filter: (source) => !/[/\\](dist|logs)$/.test(source),
    });
    cpSync(join(fixture, 'ecosystem.config.js'), join(root, 'ecosystem.config.js'));
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
    mkdirSync(join(root, 'node_modules'));
    linkKitPackages(kitDir, root);
    await build({
      absWorkingDir: join(root, 'services', 'catalog'),
      entryPoints: ['src/index.ts'],
      outfile: 'dist/index.js',
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      sourcemap: true,
      alias: { '@repo/service-kit': join(kitDir, 'src', 'index.ts') },
      external: KIT_PACKAGES,
      logLevel: 'error',
    });
    const apps = [];
    for (const [name, dependsOn] of SERVICES)
      apps.push({ name, folder: 'catalog', port: await freePort(), dependsOn });
    writeFileSync(join(root, 'stack.json'), JSON.stringify({ namespace: 'bench-diagnose', apps }, null, 2));

    // 1 GiB in all: per service out.log ~3/4, error.log ~1/4 of its share.
    const perService = logBytes / apps.length;
    let total = 0;
    for (const app of apps) {
      const logs = join(root, 'services', 'catalog', 'logs');
      total += writeLog(join(logs, `${app.name}.out.log`), app.name, 'out', perService * 0.75);
      total += writeLog(join(logs, `${app.name}.error.log`), app.name, 'err', perService * 0.25);
    }

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
    const deadline = Date.now() + 60_000;
    for (const app of apps) {
      while ((await get(`http://127.0.0.1:${app.port}/health`)) !== 200) {
        if (Date.now() > deadline) throw new Error(`${app.name} did not become healthy`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    // Past start-up, so diagnose judges memory as on a stack that has been running a while.
    await new Promise((resolve) => setTimeout(resolve, 9000));

    if (args.keep) {
      console.log(
        `stack kept: PM2_HOME=${home} DEVCTL_ROOT=${root} (kill $(cat ${home}/pm2.pid) and rm -rf both when done)`,
      );
      return;
    }

    // Warm-up (file cache, lazy compilation caches), then interleaved runs.
    timed(process.execPath, ['-e', '0'], env);
    const warm = timed(process.execPath, [devctlBin, 'diagnose', '--json'], env);
    const report = JSON.parse(warm.result.stdout);
    if (!report.healthy) {
      throw new Error(
        `the bench stack should be healthy (its logs are history):\n${warm.result.stdout.slice(0, 2000)}`,
      );
    }
    const anchor = [];
    const diagnose = [];
    for (let i = 0; i < runs; i++) {
      anchor.push(timed(process.execPath, ['-e', '0'], env).ms);
      const run = timed(process.execPath, [devctlBin, 'diagnose', '--json'], env);
      if (run.result.status !== 0)
        throw new Error(`diagnose exited ${run.result.status}: ${run.result.stderr}`);
      diagnose.push(run.ms);
    }
    const anchorMs = median(anchor);
    const diagnoseMs = median(diagnose);
    const ratio = diagnoseMs / anchorMs;
    console.log(
      `diagnose --json, 7 services, ${(total / 1024 / 1024).toFixed(0)} MiB of logs: median ${diagnoseMs.toFixed(0)} ms over ${runs} runs`,
    );
    console.log(`node -e 0 (anchor, same run, interleaved): median ${anchorMs.toFixed(0)} ms`);
    console.log(`ratio ${ratio.toFixed(2)}x (target <= 5x) ${ratio <= 5 ? 'OK' : 'OVER TARGET'}`);
    console.log(
      `runs (ms): diagnose ${diagnose.map((ms) => ms.toFixed(0)).join(' ')} | node -e 0 ${anchor.map((ms) => ms.toFixed(0)).join(' ')}`,
    );
    process.exitCode = ratio <= 5 ? 0 : 1;
  } finally {
    if (!args.keep) cleanup();
  }
}

await main();
