// devctl doctor's checks, run before starting: toolchain versions, installed dependencies, .env
// files against .env.example and each service's own configuration check, free ports, the PM2
// daemon, log sizes and free disk. Each says ok / warn / fail, and what to run when it is not ok.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { EX_CONFIG } from '@repo/stack-contract';
import { coerce, satisfies } from 'semver';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { mapLimited, printConfigCached, usesServiceKit } from '../ecosystem/print-config';
import { MiB, mib } from '../output/format';
import { installedPm2Version, listProcesses, pm2Home, rpcSocketPath, withDaemon } from '../pm2/index';
import { describeHolder, portHolder } from '../ports/holders';
import { processTree } from '../ports/processes';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** node, pnpm, dependencies, env, config, port, pm2, logs, disk */
  check: string;
  /** What it is about: a service, a folder, a port. */
  subject: string;
  status: CheckStatus;
  summary: string;
  /** The command or edit that fixes it; null when ok. */
  fix: string | null;
}

export interface DoctorReport {
  /** False when any check fails. */
  ok: boolean;
  checks: DoctorCheck[];
}

const GiB = 1024 * MiB;
const LOG_FOLDER_WARN = 256 * MiB;
const DISK_WARN = 2 * GiB;
const DISK_FAIL = 256 * MiB;

const CONFIG_CHECK_TIMEOUT_MS = 30_000;
/** Configuration checks start a Node process each: at most this many at once. */
const CONFIG_CHECK_CONCURRENCY = 2;

/**
 * True when `version` satisfies the npm range `range` (engines.node, packageManager). A pre-release
 * or build tag is ignored, so a nightly Node counts as the release it precedes.
 */
export function satisfiesRange(version: string, range: string): boolean {
  const release = coerce(version);
  return release !== null && satisfies(release, range);
}

const ok = (check: string, subject: string, summary: string): DoctorCheck => ({
  check,
  subject,
  status: 'ok',
  summary,
  fix: null,
});

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }>(
    (resolve) => {
      execFile(
        command,
        args,
        { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 10_000, maxBuffer: 4 * MiB },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({
            code,
            stdout,
            stderr,
            error: error && typeof error.code === 'string' ? (error as NodeJS.ErrnoException) : undefined,
          });
        },
      );
    },
  );
}

function checkNode(root: string): DoctorCheck {
  const engines = readJson(join(root, 'package.json'))?.engines as { node?: string } | undefined;
  const range = engines?.node;
  if (!range) return ok('node', 'node', `${process.version} (package.json sets no engines.node)`);
  if (satisfiesRange(process.version, range))
    return ok('node', 'node', `${process.version} satisfies ${range} (package.json engines)`);
  return {
    check: 'node',
    subject: 'node',
    status: 'fail',
    summary: `${process.version} does not satisfy ${range} (package.json engines.node)`,
    fix: `install Node ${range} (e.g. nvm install ${range.replace(/[^\d.]/g, '') || 'lts'}) and run devctl with it`,
  };
}

async function checkPnpm(root: string): Promise<DoctorCheck> {
  const wanted = String(readJson(join(root, 'package.json'))?.packageManager ?? '');
  const pinned = /^pnpm@(\d+\.\d+\.\d+)/.exec(wanted)?.[1];
  const result = await run('pnpm', ['--version'], { cwd: root });
  if (result.error?.code === 'ENOENT') {
    return {
      check: 'pnpm',
      subject: 'pnpm',
      status: 'fail',
      summary: 'pnpm is not installed (not on PATH)',
      fix: pinned
        ? `corepack enable && corepack prepare pnpm@${pinned} --activate (or npm install -g pnpm@${pinned})`
        : 'npm install -g pnpm',
    };
  }
  const version = result.stdout.trim().split('\n').pop() ?? '';
  if (!pinned) return ok('pnpm', 'pnpm', `${version} (package.json pins no packageManager)`);
  if (version === pinned) return ok('pnpm', 'pnpm', `${version} = packageManager pnpm@${pinned}`);
  const sameMajor = coerce(version)?.major === coerce(pinned)?.major;
  return {
    check: 'pnpm',
    subject: 'pnpm',
    status: sameMajor ? 'warn' : 'fail',
    summary: `pnpm ${version || '(no answer)'} runs, package.json pins pnpm@${pinned}`,
    fix: `corepack prepare pnpm@${pinned} --activate (or npm install -g pnpm@${pinned})`,
  };
}

/** Workspace packages: the root and every folder with a package.json under the usual workspace roots. */
function workspacePackages(root: string, ecosystem: Ecosystem): string[] {
  const folders = new Set<string>([root, ...ecosystem.services.map((s) => s.cwd)]);
  for (const group of ['apps', 'packages', 'services']) {
    let entries: string[] = [];
    try {
      entries = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const entry of entries) folders.add(join(root, group, entry));
  }
  return [...folders].filter((folder) => existsSync(join(folder, 'package.json')));
}

/** True when Node would find `name` from `folder`: in its node_modules or one above, up to the root. */
function resolvable(name: string, folder: string, root: string): boolean {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name))) return true;
    if (dir === root || dirname(dir) === dir) return false;
  }
}

function checkDependencies(root: string, ecosystem: Ecosystem): DoctorCheck[] {
  if (!existsSync(join(root, 'node_modules'))) {
    return [
      {
        check: 'dependencies',
        subject: '.',
        status: 'fail',
        summary: 'dependencies are not installed (no node_modules)',
        fix: 'pnpm install',
      },
    ];
  }
  const missing: string[] = [];
  for (const folder of workspacePackages(root, ecosystem)) {
    const pkg = readJson(join(folder, 'package.json')) ?? {};
    const declared = { ...(pkg.dependencies as object), ...(pkg.devDependencies as object) } as Record<
      string,
      string
    >;
    for (const name of Object.keys(declared)) {
      if (!resolvable(name, folder, root)) missing.push(`${relative(root, folder) || '.'}: ${name}`);
    }
  }
  if (missing.length > 0) {
    return [
      {
        check: 'dependencies',
        subject: '.',
        status: 'fail',
        summary: `${missing.length} declared package${missing.length === 1 ? ' is' : 's are'} not installed: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`,
        fix: 'pnpm install',
      },
    ];
  }
  // pnpm writes node_modules/.modules.yaml at every install.
  const lockfile = join(root, 'pnpm-lock.yaml');
  const marker = join(root, 'node_modules', '.modules.yaml');
  if (
    existsSync(lockfile) &&
    existsSync(marker) &&
    statSync(lockfile).mtimeMs > statSync(marker).mtimeMs + 1000
  ) {
    return [
      {
        check: 'dependencies',
        subject: '.',
        status: 'warn',
        summary: 'pnpm-lock.yaml changed after the last install',
        fix: 'pnpm install',
      },
    ];
  }
  return [
    ok(
      'dependencies',
      '.',
      'every declared package is installed; the lockfile is not newer than the install',
    ),
  ];
}

/** The keys of a .env file in file order (parseEnv's object does not keep it). */
function envKeys(path: string): string[] | undefined {
  if (!existsSync(path)) return undefined;
  const keys: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=/.exec(line)?.[1];
    if (key && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

function checkEnvFiles(root: string, ecosystem: Ecosystem): DoctorCheck[] {
  const folders = [root, ...new Set(ecosystem.services.map((s) => s.cwd))];
  const checks: DoctorCheck[] = [];
  for (const folder of folders) {
    const subject = relative(root, folder) || '.';
    const example = envKeys(join(folder, '.env.example'));
    if (!example) continue;
    const actual = envKeys(join(folder, '.env'));
    const envFile = join(subject, '.env');
    if (!actual) {
      checks.push(
        ok('env', subject, `no ${envFile}: the defaults of ${join(subject, '.env.example')} apply`),
      );
      continue;
    }
    const missing = example.filter((key) => !actual.includes(key));
    const unknown = actual.filter((key) => !example.includes(key));
    if (missing.length === 0 && unknown.length === 0) {
      checks.push(ok('env', subject, `${envFile} has every key of .env.example`));
      continue;
    }
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')} (their defaults apply)`);
    if (unknown.length > 0) parts.push(`not in .env.example: ${unknown.join(', ')} (a typo?)`);
    checks.push({
      check: 'env',
      subject,
      status: 'warn',
      summary: `${envFile}: ${parts.join('; ')}`,
      fix: `compare ${envFile} with ${join(subject, '.env.example')}${missing.length > 0 ? ` and add ${missing.join(', ')} if the defaults do not suit you` : ''}`,
    });
  }
  return checks;
}

/**
 * Each built service validates its own configuration (`--print-config` of the service kit exits
 * 78 with the variables at fault), so a doomed start is caught before starting.
 */
async function checkServiceConfig(root: string, service: ServiceEntry): Promise<DoctorCheck | undefined> {
  const script = join(service.cwd, service.script);
  // Only services built on the kit know --print-config; anything else would start and listen.
  if (!usesServiceKit(service)) return undefined;
  if (!existsSync(script)) {
    return {
      check: 'config',
      subject: service.name,
      status: 'warn',
      summary: `${relative(root, script)} is not built yet, so its configuration was not checked`,
      fix: `pnpm build (or pnpm devctl start ${service.name}, which builds first)`,
    };
  }
  // The cache start, env and diagnose share: a pass with the same inputs is not run again.
  const result = await printConfigCached(service, root, { timeoutMs: CONFIG_CHECK_TIMEOUT_MS });
  if (result.code === 0) return ok('config', service.name, 'its configuration is valid');
  if (result.code === null) {
    return {
      check: 'config',
      subject: service.name,
      status: 'warn',
      summary: `its configuration check did not finish within ${CONFIG_CHECK_TIMEOUT_MS / 1000} s`,
      fix: `node ${relative(root, script)} --print-config`,
    };
  }
  if (result.code === EX_CONFIG && result.problems) {
    const problems = result.problems;
    return {
      check: 'config',
      subject: service.name,
      status: 'fail',
      summary: problems.map((v) => `${v.name} ${v.message}`).join('; '),
      fix: `set ${problems.map((v) => v.name).join(', ')} in ${problems[0]?.file ?? join(service.folder, '.env')}`,
    };
  }
  const reason = result.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  return {
    check: 'config',
    subject: service.name,
    status: 'fail',
    summary: `checking its configuration failed (exit ${result.code}): ${reason.slice(0, 300)}`,
    fix: `node ${relative(root, script)} --print-config, then pnpm devctl diagnose ${service.name} once started`,
  };
}

async function checkPorts(root: string, ecosystem: Ecosystem): Promise<DoctorCheck[]> {
  const processes = (await listProcesses({ namespace: ecosystem.namespace })) ?? [];
  const checks: DoctorCheck[] = [];
  for (const service of ecosystem.services) {
    if (service.port === undefined) continue;
    const subject = `${service.name}:${service.port}`;
    const holder = portHolder(service.port, root);
    if (!holder) {
      checks.push(ok('port', subject, `port ${service.port} is free`));
      continue;
    }
    const owner = processes.find(
      (p) => p.pm2Pid > 0 && holder.pid !== undefined && processTree(p.pm2Pid).includes(holder.pid),
    );
    if (owner) {
      checks.push(
        ok(
          'port',
          subject,
          `port ${service.port} is used by ${owner.name}, running under PM2 in this project`,
        ),
      );
      continue;
    }
    checks.push({
      check: 'port',
      subject,
      status: 'fail',
      summary: `${describeHolder(holder)}; ${service.name} could not listen`,
      fix:
        holder.pid === undefined
          ? `free port ${service.port} or give ${service.name} another PORT in ecosystem.config.js`
          : holder.orphan
            ? `kill ${holder.pid} (a leftover of this project)`
            : `stop pid ${holder.pid} or give ${service.name} another PORT in ecosystem.config.js`,
    });
  }
  return checks;
}

async function checkPm2(): Promise<DoctorCheck> {
  const home = pm2Home();
  const installed = installedPm2Version();
  if (!existsSync(rpcSocketPath(home))) {
    return ok(
      'pm2',
      home,
      `no PM2 daemon runs (PM2_HOME=${home}); pnpm pm2:start starts one (pm2 ${installed})`,
    );
  }
  let running: string | null;
  try {
    // getVersion(env, cb): without the env argument the daemon calls an undefined callback and dies.
    running = await withDaemon((connection) => connection.call<string>('getVersion', {}));
  } catch (error) {
    return {
      check: 'pm2',
      subject: home,
      status: 'fail',
      summary: `the PM2 daemon of ${home} does not answer: ${(error as Error).message}`,
      fix: `read ${join(home, 'pm2.log')}; then kill $(cat ${join(home, 'pm2.pid')}) and pnpm pm2:start`,
    };
  }
  if (running === null) {
    return ok('pm2', home, `no PM2 daemon answers (PM2_HOME=${home}); pnpm pm2:start starts one`);
  }
  if (running !== installed) {
    return {
      check: 'pm2',
      subject: home,
      status: 'warn',
      summary: `the PM2 daemon runs pm2 ${running}, the installed pm2 is ${installed}`,
      fix: 'pnpm exec pm2 update (restarts the daemon with the installed version; every app in it, other projects too, restarts)',
    };
  }
  return ok('pm2', home, `the PM2 daemon answers, version ${running} = installed pm2`);
}

function folderSize(folder: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    try {
      const stat = statSync(join(folder, entry));
      total += stat.isDirectory() ? folderSize(join(folder, entry)) : stat.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

function checkLogs(root: string, ecosystem: Ecosystem): DoctorCheck[] {
  const folders = new Set<string>();
  for (const service of ecosystem.services) {
    folders.add(dirname(service.outFile));
    folders.add(dirname(service.errorFile));
  }
  folders.add(join(pm2Home(), 'logs'));
  const checks: DoctorCheck[] = [];
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    const size = folderSize(folder);
    const subject = folder.startsWith(root) ? relative(root, folder) : folder;
    if (size < LOG_FOLDER_WARN) {
      checks.push(ok('logs', subject, `${mib(size)} of logs`));
      continue;
    }
    checks.push({
      check: 'logs',
      subject,
      status: 'warn',
      summary: `${mib(size)} of logs in ${subject}`,
      fix: `empty them: truncate -s 0 ${join(subject, '*.log')} (devctl reads logs from their end, so size costs disk, not speed)`,
    });
  }
  return checks;
}

function checkDisk(root: string): DoctorCheck {
  try {
    const stats = statfsSync(root);
    const free = stats.bavail * stats.bsize;
    const text = `${(free / GiB).toFixed(1)} GiB free on the disk of ${root}`;
    if (free >= DISK_WARN) return ok('disk', root, text);
    return {
      check: 'disk',
      subject: root,
      status: free < DISK_FAIL ? 'fail' : 'warn',
      summary: text,
      fix: 'free some disk space (logs: see the logs checks; pnpm store prune)',
    };
  } catch (error) {
    return {
      check: 'disk',
      subject: root,
      status: 'warn',
      summary: `free disk unknown: ${(error as Error).message}`,
      fix: 'df -h',
    };
  }
}

export async function runDoctorChecks(ecosystem: Ecosystem): Promise<DoctorReport> {
  const root = ecosystem.root;
  const [pnpm, ports, pm2, configs] = await Promise.all([
    checkPnpm(root),
    checkPorts(root, ecosystem),
    checkPm2(),
    mapLimited(ecosystem.services, CONFIG_CHECK_CONCURRENCY, (service) => checkServiceConfig(root, service)),
  ]);
  const checks = [
    checkNode(root),
    pnpm,
    ...checkDependencies(root, ecosystem),
    ...checkEnvFiles(root, ecosystem),
    ...configs.filter((check): check is DoctorCheck => check !== undefined),
    ...ports,
    pm2,
    ...checkLogs(root, ecosystem),
    checkDisk(root),
  ];
  return { ok: !checks.some((check) => check.status === 'fail'), checks };
}
