// Shared helpers of devctl's benchmarks: a private PM2 home (its daemon killed by PID at the end),
// free ports, interleaved timing with medians, whole-tree resident memory from /proc, and the
// generated ecosystems of the real seven services on free ports (devctl's built-JS style and the
// seed's `npm start` style). Never the fixed ports 3000-3006, never ~/.pm2.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('..', import.meta.url));
export const devctlDir = join(repo, 'packages', 'devctl');
export const devctlBin = join(devctlDir, 'bin', 'devctl.js');
export const pm2Bin = createRequire(join(devctlDir, 'package.json')).resolve('pm2/bin/pm2');

/**
 * The service kit's runtime packages from the registry (its package.json, not a list kept by hand),
 * kept external by the fixture bundles and linked into a fixture root from the kit's node_modules.
 */
export function kitPackages(kitDir) {
  const { dependencies } = JSON.parse(readFileSync(join(kitDir, 'package.json'), 'utf8'));
  return Object.entries(dependencies)
    .filter(([, version]) => !version.startsWith('workspace:'))
    .map(([name]) => name);
}

/** Links each of the kit's runtime packages into `<root>/node_modules` (scoped names too). */
export function linkKitPackages(kitDir, root) {
  for (const name of kitPackages(kitDir)) {
    mkdirSync(dirname(join(root, 'node_modules', name)), { recursive: true });
    symlinkSync(join(kitDir, 'node_modules', name), join(root, 'node_modules', name), 'dir');
  }
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const round = (n, digits = 0) => Number(n.toFixed(digits));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prints one figure next to its anchor as a ratio, with the target and whether it is met. */
export function printRatio(label, value, anchorLabel, anchor, target) {
  const ratio = value / anchor;
  const verdict =
    target === undefined
      ? ''
      : ratio <= target
        ? `  (target <= ${target}: met)`
        : `  (target <= ${target}: NOT met)`;
  console.log(
    `${label}: ${round(value)} ms vs ${anchorLabel} ${round(anchor)} ms = ${round(ratio, 2)}x${verdict}`,
  );
  return ratio;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** The children of `pid` (every thread's list). */
export function childPids(pid) {
  try {
    const out = [];
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
      for (const word of text.split(' ')) if (word.trim()) out.push(Number(word));
    }
    return out;
  } catch {
    return [];
  }
}

export function processTree(pid) {
  const seen = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift();
    if (seen.includes(next)) continue;
    seen.push(next);
    queue.push(...childPids(next));
  }
  return seen;
}

/** Resident memory of one process in bytes (VmRSS), 0 when gone. */
export function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Kills `pid` and its descendants by PID (SIGTERM, then SIGKILL after `graceMs`). */
export async function killTree(pid, graceMs = 3000) {
  const known = new Set(processTree(pid));
  for (const p of known) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [...known].some(isAlive)) {
    for (const p of [...known]) if (isAlive(p)) for (const c of processTree(p)) known.add(c);
    await sleep(50);
  }
  for (const p of known) {
    if (!isAlive(p)) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

/** SIGKILLs the daemon of a PM2_HOME and every process under it, by PID (nothing else). */
export function killPm2DaemonSync(home) {
  let pid;
  try {
    pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim());
  } catch {
    return;
  }
  if (!pid) return;
  for (const p of processTree(pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A private PM2_HOME; `env` for children; `cleanup()` kills its daemon and every child by PID. */
export function createPm2Home(prefix = 'devctl-bench-pm2-') {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const env = {
    ...process.env,
    PM2_HOME: home,
    PM2_NO_INTERACTION: 'true',
    PM2_DISCRETE_MODE: 'true',
    NO_COLOR: '1',
  };
  const daemonPid = () => {
    try {
      return Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  return {
    home,
    env,
    daemonPid,
    /** Starts the daemon (PM2's own `ping` launches it) and returns its pid. */
    launchDaemon() {
      execFileSync(process.execPath, [pm2Bin, 'ping'], { env, stdio: 'ignore' });
      return daemonPid();
    },
    async cleanup() {
      const pid = daemonPid();
      if (pid) await killTree(pid);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Runs a command to completion; resolves with its wall time in ms, exit code and output. */
export function timeCommand(command, args, options = {}) {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return {
    ms: performance.now() - started,
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/** GET http://127.0.0.1:<port><path>; resolves with the status code or 0 on a network error. */
export function httpStatus(port, path = '/health', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** GET /health and its JSON body (the service kit's answer carries the server's pid). */
export function healthBody(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/health', agent: false, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: undefined });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: undefined }));
    req.end();
  });
}

/**
 * Resolves when `port` answers /health 2xx from a process other than `oldPid` (a restart is done
 * only when the NEW server answers); counts how long the old one kept answering meanwhile.
 */
export async function waitNewServer(port, oldPid, timeoutMs = 60_000, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let oldAnswers = 0;
  for (;;) {
    const { status, body } = await healthBody(port, 500);
    if (status >= 200 && status < 300) {
      if (body?.pid !== oldPid) return { oldAnswers, pid: body?.pid };
      oldAnswers++;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `port ${port}: no new server within ${timeoutMs} ms (old pid ${oldPid} answered ${oldAnswers} times)`,
      );
    }
    await sleep(intervalMs);
  }
}

/** Resolves when every port answers 2xx on /health, polling each every `intervalMs`. */
export async function waitAllHealthy(ports, timeoutMs = 60_000, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    ports.map(async (port) => {
      for (;;) {
        const status = await httpStatus(port, '/health', 500);
        if (status >= 200 && status < 300) return;
        if (Date.now() > deadline) throw new Error(`port ${port} not healthy within ${timeoutMs} ms`);
        await sleep(intervalMs);
      }
    }),
  );
}

/** Resolves when nothing listens on any of `ports` any more. */
export async function waitPortsFree(ports, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = [];
    for (const port of ports) if ((await httpStatus(port, '/health', 300)) !== 0) busy.push(port);
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`ports still in use: ${busy.join(', ')}`);
    await sleep(50);
  }
}

/** The PM2 processes of a home, from PM2's own jlist (pid and namespace only). */
export function pm2Processes(env) {
  const out = execFileSync(process.execPath, [pm2Bin, 'jlist'], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const start = out.indexOf('[');
  return JSON.parse(out.slice(start)).map((p) => ({
    name: p.name,
    pid: p.pid,
    namespace: p.pm2_env.namespace,
    status: p.pm2_env.status,
  }));
}

/** Resident memory of the daemon plus every process of every app of `namespace`, in bytes. */
export function stackRss(env, daemonPid, namespace) {
  let total = rssBytes(daemonPid);
  let processes = 1;
  for (const app of pm2Processes(env).filter((p) => p.namespace === namespace && p.pid > 0)) {
    for (const pid of processTree(app.pid)) {
      total += rssBytes(pid);
      processes++;
    }
  }
  return { bytes: total, processes };
}

/** `data-service` -> `DATA_SERVICE_URL` (how the services find each other). */
const urlVariable = (name) =>
  name.endsWith('-service') ? `${name.toUpperCase().replace(/-/g, '_')}_URL` : undefined;

/**
 * Writes two ecosystems of the real seven services on free ports into a temp folder:
 * - `devctl.config.js`: the repository's own entries (built JS under PM2, no wrapper);
 * - `npm.config.js`: the seed's style, `script: 'npm', args: 'start'`, where `start` runs
 *   `tsx src/index.ts` as the seed's package.json did (npm -> sh -> tsx CLI -> node per service;
 *   FIELD-NOTES). `npmScript` overrides that start script (e.g. today's `node dist/index.js`).
 * Both get the same env: ports, service URLs, a throwaway database and outbox.
 */
export async function writeStackEcosystems(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'devctl-bench-stack-'));
  const require = createRequire(join(repo, 'package.json'));
  // The seven services; tools (the log rotator) are not part of what is compared.
  const apps = require(join(repo, 'ecosystem.config.js')).apps.filter((app) => app.devctl_role !== 'tool');
  const ports = await freePorts(apps.length);
  const portOf = Object.fromEntries(apps.map((app, i) => [app.name, ports[i]]));
  const urls = {};
  for (const app of apps) {
    const variable = urlVariable(app.name);
    if (variable) urls[variable] = `http://127.0.0.1:${portOf[app.name]}`;
  }
  const env = (name) => ({
    NODE_ENV: 'development',
    PORT: String(portOf[name]),
    LOG_LEVEL: 'info',
    JWT_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef',
    DATABASE_FILE: join(dir, 'data', 'devstack.db'),
    EMAIL_OUTBOX_DIR: join(dir, 'outbox'),
    ...urls,
  });
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'outbox'), { recursive: true });
  const logs = (style, name) => ({
    out_file: join(dir, 'logs', style, `${name}-out.log`),
    error_file: join(dir, 'logs', style, `${name}-error.log`),
  });
  const devctlApps = apps.map((app) => ({
    ...app,
    namespace: 'bench-devctl',
    env: { ...app.env, ...env(app.name) },
    ...logs('devctl', app.name),
  }));
  const npmApps = apps.map((app) => {
    // A package folder whose `npm start` is the seed's start script, run for the real service.
    const wrapper = join(dir, 'npm', app.name);
    mkdirSync(wrapper, { recursive: true });
    const tsx = join(app.cwd, 'node_modules', '.bin', 'tsx');
    const start = options.npmScript ? options.npmScript(app) : `${tsx} ${join(app.cwd, 'src', 'index.ts')}`;
    writeFileSync(
      join(wrapper, 'package.json'),
      JSON.stringify({ name: `npm-${app.name}`, private: true, scripts: { start } }),
    );
    return {
      name: app.name,
      namespace: 'bench-npm',
      cwd: wrapper,
      script: 'npm',
      args: 'start',
      time: true,
      env: env(app.name),
      depends_on: app.depends_on,
      ...logs('npm', app.name),
    };
  });
  const write = (file, list) => {
    writeFileSync(join(dir, file), `module.exports = ${JSON.stringify({ apps: list }, null, 2)};\n`);
    return join(dir, file);
  };
  return {
    dir,
    ports: apps.map((app) => portOf[app.name]),
    portOf,
    names: apps.map((app) => app.name),
    devctlConfig: write('devctl.config.js', devctlApps),
    npmConfig: write('npm.config.js', npmApps),
    /** A folder DEVCTL_ROOT can point at: its ecosystem.config.js is the devctl one. */
    devctlRoot() {
      const root = join(dir, 'devctl-root');
      mkdirSync(root, { recursive: true });
      writeFileSync(
        join(root, 'ecosystem.config.js'),
        `module.exports = require(${JSON.stringify(join(dir, 'devctl.config.js'))});\n`,
      );
      return root;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Builds the seven services and devctl (turbo, cached) so every run measures built code. */
export function buildAll() {
  const turbo = join(repo, 'node_modules', '.bin', 'turbo');
  execFileSync(turbo, ['run', 'build', '--filter=./services/*', '--output-logs=errors-only'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync(process.execPath, [join(devctlDir, 'build.mjs')], { stdio: 'inherit' });
}

/** Spawns a child in the background (for sampling while it runs). */
export { existsSync, spawn };
