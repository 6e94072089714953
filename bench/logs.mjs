#!/usr/bin/env node
// Benchmark: `devctl logs <svc> --lines 200` on a 1 GiB log of realistic lines (pino JSON with PM2
// time prefixes, 12 KiB payload lines, Node's multi-line uncaught-error reports) against
//   - `pm2 logs <svc> --nostream --lines 200` on the same files, through a real PM2 daemon in a
//     private PM2_HOME (a sleeping app whose out_file/error_file are the generated logs);
//     target: devctl <= 0.6x pm2;
//   - itself on a 1 MiB log of the same lines; target: 1 GiB <= 1.2x 1 MiB (cost grows with N,
//     not with the file size).
// Medians of interleaved runs in the same process, `node -e 0` alongside for reference.
//
//   node bench/logs.mjs [--runs 7] [--log-mib 1024] [--keep-log]
//
// The logs are generated in /tmp/devctl-bench-logs and reused when a previous run kept them
// (--keep-log); otherwise the 1 GiB files are deleted at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devctlBin, killPm2DaemonSync, median, pm2Bin } from './_lib.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'log-mib': { type: 'string', default: '1024' },
    'keep-log': { type: 'boolean', default: false },
  },
});
const runs = Math.max(5, Number(args.runs));
const bigBytes = Number(args['log-mib']) * 1024 * 1024;
const smallBytes = 1024 * 1024;
const LINES = 200;
const GENERATOR_VERSION = 'v2';

const logsDir = join(tmpdir(), 'devctl-bench-logs');
const APPS = [
  { name: 'bench-big', bytes: bigBytes },
  { name: 'bench-small', bytes: smallBytes },
];
const outFile = (app) => join(logsDir, app.name, 'out.log');
const errFile = (app) => join(logsDir, app.name, 'error.log');

const pad = (n, width = 2) => String(n).padStart(width, '0');
const pm2Prefix = (date) =>
  `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}: `;

/** About `bytes` (at most 1 MiB) of one stream's lines from `time` on; returns the text and the time reached. */
function logChunk(service, stream, time, bytes) {
  const parts = [];
  let size = 0;
  let n = 0;
  while (size < Math.min(bytes, 1024 * 1024)) {
    time += 41;
    n++;
    const date = new Date(time);
    const prefix = pm2Prefix(date);
    const iso = date.toISOString();
    let text;
    if (stream === 'out') {
      const id = (time % 1_000_000).toString(36);
      text =
        n % 50 === 0
          ? // A large payload logged whole: one line of ~12 KiB.
            `${prefix}{"level":30,"time":"${iso}","pid":4242,"hostname":"box","service":"${service}","reqId":"req-${id}","body":"${'x'.repeat(12_000)}","msg":"request body"}\n`
          : `${prefix}{"level":30,"time":"${iso}","pid":4242,"hostname":"box","service":"${service}","reqId":"req-${id}","req":{"method":"POST","url":"/forms/${id}/submissions"},"res":{"statusCode":201},"responseTime":${(time % 97) / 10},"msg":"request completed"}\n`;
    } else if (n % 4 === 0) {
      // Node's own uncaught-error report: one PM2 prefix per line, a 30-frame stack.
      const frames = Array.from(
        { length: 30 },
        (_, i) =>
          `${prefix}    at handler${i} (/srv/project/services/form/src/routes/submit.ts:${i + 10}:${i + 3})\n`,
      );
      text = `${prefix}/srv/project/services/form/dist/index.js:41\n${prefix}TypeError: Cannot read properties of undefined (reading 'title')\n${frames.join('')}${prefix}\n${prefix}Node.js v20.20.2\n`;
    } else {
      const stack = Array.from(
        { length: 20 },
        (_, i) => `    at step${i} (/srv/project/services/form/src/routes/submit.ts:${i + 10}:7)`,
      ).join('\\n');
      text = `${prefix}{"level":50,"time":"${iso}","pid":4242,"hostname":"box","service":"${service}","reqId":"req-${n}","err":{"type":"TypeError","message":"Cannot read properties of undefined (reading 'title')","stack":"TypeError: Cannot read properties of undefined (reading 'title')\\n${stack}"},"msg":"unhandled error in POST /forms/x/submissions"}\n`;
    }
    parts.push(text);
    size += text.length;
  }
  return { text: parts.join(''), time };
}

function writeLog(file, service, stream, bytes) {
  mkdirSync(join(file, '..'), { recursive: true });
  const fd = openSync(file, 'w');
  let time = Date.now() - 30 * 24 * 3600 * 1000;
  let written = 0;
  try {
    while (written < bytes) {
      const chunk = logChunk(service, stream, time, bytes - written);
      time = chunk.time;
      written += writeSync(fd, chunk.text);
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** out.log gets 3/4 of the bytes, error.log 1/4; reused when a kept earlier run made the same. */
function ensureLogs() {
  const marker = join(logsDir, 'generated.json');
  const wanted = JSON.stringify({ version: GENERATOR_VERSION, apps: APPS });
  const reusable =
    existsSync(marker) &&
    readFileSync(marker, 'utf8') === wanted &&
    APPS.every((app) => existsSync(outFile(app)) && existsSync(errFile(app)));
  if (reusable) return 'reused';
  rmSync(logsDir, { recursive: true, force: true });
  for (const app of APPS) {
    writeLog(outFile(app), app.name, 'out', app.bytes * 0.75);
    writeLog(errFile(app), app.name, 'err', app.bytes * 0.25);
  }
  writeFileSync(marker, wanted);
  return 'generated';
}

function timed(argv, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

const lineCount = (text) => text.split('\n').filter((line) => line.length > 0).length;

async function main() {
  const genStarted = Date.now();
  const how = ensureLogs();
  const bigSize = statSync(outFile(APPS[0])).size + statSync(errFile(APPS[0])).size;
  const smallSize = statSync(outFile(APPS[1])).size + statSync(errFile(APPS[1])).size;
  console.log(
    `logs ${how} in ${logsDir} (${((Date.now() - genStarted) / 1000).toFixed(1)} s): ${APPS[0].name} ${(bigSize / 1024 / 1024).toFixed(0)} MiB, ${APPS[1].name} ${(smallSize / 1024 / 1024).toFixed(2)} MiB (out.log 3/4, error.log 1/4)`,
  );

  const root = mkdtempSync(join(tmpdir(), 'devctl-bench-logs-root-'));
  const home = mkdtempSync(join(tmpdir(), 'devctl-bench-logs-pm2-'));
  try {
    writeFileSync(join(root, 'sleep.js'), 'setInterval(() => {}, 1 << 30);\n');
    const apps = APPS.map((app) => ({
      name: app.name,
      namespace: 'bench-logs',
      cwd: root,
      script: 'sleep.js',
      out_file: outFile(app),
      error_file: errFile(app),
      time: true,
      pmx: false,
      automation: false,
      autorestart: false,
    }));
    writeFileSync(
      join(root, 'ecosystem.config.js'),
      `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`,
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

    const commands = {
      node: ['-e', '0'],
      devctlBig: [devctlBin, 'logs', APPS[0].name, '--lines', String(LINES)],
      pm2Big: [pm2Bin, 'logs', APPS[0].name, '--nostream', '--lines', String(LINES)],
      devctlSmall: [devctlBin, 'logs', APPS[1].name, '--lines', String(LINES)],
    };
    // Warm-up (page cache, a stale devctl bundle rebuilt) and a check of what each prints.
    for (const argv of Object.values(commands)) timed(argv, env);
    const devctlRaw = timed([...commands.devctlBig, '--raw'], env).stdout;
    const pm2Output = timed(commands.pm2Big, env).stdout;
    if (lineCount(devctlRaw) !== LINES)
      throw new Error(`devctl printed ${lineCount(devctlRaw)} lines, not ${LINES}`);

    const samples = Object.fromEntries(Object.keys(commands).map((key) => [key, []]));
    for (let i = 0; i < runs; i++) {
      for (const [key, argv] of Object.entries(commands)) samples[key].push(timed(argv, env).ms);
    }
    const m = Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, median(values)]));
    const vsPm2 = m.devctlBig / m.pm2Big;
    const bigVsSmall = m.devctlBig / m.devctlSmall;
    const ok = (value, target) => (value <= target ? 'OK' : 'OVER TARGET');
    console.log(`medians of ${runs} interleaved runs:`);
    console.log(`  devctl logs ${APPS[0].name} --lines ${LINES} (1 GiB)      ${m.devctlBig.toFixed(0)} ms`);
    console.log(
      `  pm2 logs ${APPS[0].name} --nostream --lines ${LINES}     ${m.pm2Big.toFixed(0)} ms   (anchor)`,
    );
    console.log(
      `  devctl logs ${APPS[1].name} --lines ${LINES} (1 MiB)    ${m.devctlSmall.toFixed(0)} ms   (anchor)`,
    );
    console.log(`  node -e 0                                       ${m.node.toFixed(0)} ms   (reference)`);
    console.log(`devctl / pm2 on 1 GiB: ${vsPm2.toFixed(2)}x (target <= 0.6x) ${ok(vsPm2, 0.6)}`);
    console.log(`devctl 1 GiB / 1 MiB:  ${bigVsSmall.toFixed(2)}x (target <= 1.2x) ${ok(bigVsSmall, 1.2)}`);
    console.log(
      `lines printed for --lines ${LINES}: devctl ${lineCount(devctlRaw)} (out and err merged); pm2 ${lineCount(pm2Output)} in all (its two blocks with headers, each from ~${LINES} x 200 bytes)`,
    );
    for (const [key, values] of Object.entries(samples)) {
      console.log(`  runs ${key}: ${values.map((ms) => ms.toFixed(0)).join(' ')}`);
    }
    process.exitCode = vsPm2 <= 0.6 && bigVsSmall <= 1.2 ? 0 : 1;
  } finally {
    killPm2DaemonSync(home);
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    if (!args['keep-log']) rmSync(logsDir, { recursive: true, force: true });
  }
}

await main();
