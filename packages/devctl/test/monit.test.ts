// `devctl monit` against a real PM2 daemon in a private PM2_HOME: the snapshot printed when stdout
// is not a terminal, and the live view in a pseudo-terminal (util-linux `script`) that quits on q.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPm2Home, killTreeSync, type Pm2Home, tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

// The bin rebuilds dist/ itself when a file in src/ is newer (atomically, so parallel runs are safe).
const bin = fileURLToPath(new URL('../bin/devctl.js', import.meta.url));
const pm2Bin = join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');
const project = tempDir('devctl-monit-');
const root = project.path;
let pm2: Pm2Home;

// A tiny service: one line on stderr at start, then a numbered line with its pid every 100 ms.
const TICKER = `
console.error('ticker starting');
let n = 0;
setInterval(() => console.log('tick ' + ++n + ' pid ' + process.pid), 100);
`;

function ecosystem() {
  const app = (name: string) => ({
    name,
    namespace: 'monit-test',
    cwd: root,
    script: 'ticker.js',
    out_file: join(root, 'logs', name, 'out.log'),
    error_file: join(root, 'logs', name, 'error.log'),
    time: true,
    pmx: false,
    automation: false,
  });
  return { apps: [app('ticker-service'), app('idle-service')] };
}

const env = () => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DEVCTL_ROOT: root,
  NO_COLOR: '1',
  ...pm2.env,
});

beforeAll(async () => {
  pm2 = createPm2Home('devctl-monit-pm2-');
  writeFileSync(join(root, 'ticker.js'), TICKER);
  writeFileSync(
    join(root, 'ecosystem.config.js'),
    `module.exports = ${JSON.stringify(ecosystem(), null, 2)};\n`,
  );
  mkdirSync(join(root, 'logs'), { recursive: true });
  execFileSync(process.execPath, [pm2Bin, 'start', 'ecosystem.config.js', '--only', 'ticker-service'], {
    cwd: root,
    env: env(),
    stdio: 'ignore',
    timeout: 30_000,
  });
  // Wait for well more ticks than a snapshot shows, so its log section holds ticks only (under load
  // PM2 can stamp the first stderr line after several ticks: it reads the two pipes separately).
  const out = join(root, 'logs', 'ticker-service', 'out.log');
  for (let i = 0; i < 200 && !(existsSync(out) && /tick 20 /.test(readFileSync(out, 'utf8'))); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  await pm2?.cleanup();
  project.cleanup();
});

function tickerPid(): number {
  const log = readFileSync(join(root, 'logs', 'ticker-service', 'out.log'), 'utf8');
  return Number(/pid (\d+)/.exec(log)?.[1]);
}

describe('devctl monit', () => {
  it('prints one snapshot when stdout is not a terminal: status, pid, memory and log tail', () => {
    const result = spawnSync(process.execPath, [bin, 'monit'], {
      cwd: root,
      env: env(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    const row = lines.find((line) => line.startsWith('ticker-service '));
    expect(row).toMatch(/^ticker-service +online +(\d+) /);
    expect(row).toContain(String(tickerPid()));
    expect(row).toMatch(/\d+(\.\d)? MiB/);
    expect(lines.find((line) => line.startsWith('idle-service '))).toMatch(/not started/);
    // The log section: the ticker's last lines (out and err merged), and no log for the idle one.
    const section = lines.slice(lines.findIndex((line) => line.startsWith('── ticker-service')));
    for (const line of section.slice(1, 6)) expect(line).toMatch(/^ {2}\S+ out \| tick \d+ pid \d+$/);
    expect(section.find((line) => line.startsWith('── idle-service'))).toBeDefined();
    expect(result.stdout).toContain('(no log file yet)');
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('shows only the named services and rejects an unknown name with exit 2', () => {
    const only = spawnSync(process.execPath, [bin, 'monit', 'idle-service'], {
      env: env(),
      encoding: 'utf8',
    });
    expect(only.status).toBe(0);
    expect(only.stdout).not.toContain('ticker-service');
    const unknown = spawnSync(process.execPath, [bin, 'monit', 'tiker-service'], {
      env: env(),
      encoding: 'utf8',
    });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('did you mean ticker-service?');
    const interval = spawnSync(process.execPath, [bin, 'monit', '--interval', '0'], {
      env: env(),
      encoding: 'utf8',
    });
    expect(interval.status).toBe(2);
  });

  it('runs full-screen in a terminal, redraws, and restores the terminal on q', async () => {
    // `script` gives devctl a pseudo-terminal: keys written to script's stdin reach devctl's, and
    // what devctl draws comes back on script's stdout.
    const command = `stty cols 100 rows 30; exec "${process.execPath}" "${bin}" monit --interval 0.2`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: root,
      env: { ...env(), TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null && child.pid) killTreeSync(child.pid);
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 150 && !pattern.test(output); i++) await new Promise((r) => setTimeout(r, 100));
      expect(output).toMatch(pattern);
    };
    await waitFor(/tick \d+ pid/);
    const firstTick = Number(/tick (\d+) pid/.exec(output)?.[1]);
    // A later frame shows newer ticks: the view redraws by itself.
    await waitFor(
      new RegExp(`tick (${firstTick + 3}|${firstTick + 4}|${firstTick + 5}|${firstTick + 6}) pid`),
    );
    expect(output).toContain('\u001b[?1049h');
    expect(output).toContain('every 0.2s, q to quit');
    child.stdin.write('q');
    expect(await exited).toBe(0);
    // The terminal is given back: cursor shown, alternate screen left, as the last thing drawn.
    expect(JSON.stringify(output.trimEnd().slice(-40))).toMatch(/\\u001b\[\?25h\\u001b\[\?1049l"$/);
  });
});
