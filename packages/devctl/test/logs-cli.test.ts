// `devctl logs` as a user runs it: the real bin (process.execPath + bin/devctl.js) in a temporary
// project whose ecosystem.config.js points at generated PM2-style logs. No PM2 is needed to read logs.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess, tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  generateLines,
  pm2Prefix,
  type WrittenLine,
  writeEcosystem,
  writeLog,
  writeServiceLogs,
} from './logs-fixtures';

// The bin rebuilds dist/ itself when a file in src/ is newer (atomically, so parallel runs are safe).
const bin = fileURLToPath(new URL('../bin/devctl.js', import.meta.url));
const project = tempDir('devctl-logs-cli-');
const root = project.path;
const logsOf = (service: string) => join(root, 'logs', service);

let form: WrittenLine[];
let auth: WrittenLine[];

beforeAll(async () => {
  writeEcosystem(root, ['form-service', 'auth-service', 'data-service']);
  // Two services on interleaved seconds (form on even, auth on odd ones) so the merge order is known.
  const start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  form = writeServiceLogs(logsOf('form-service'), 'form-service', 300, new Date(start), 2000);
  auth = writeServiceLogs(logsOf('auth-service'), 'auth-service', 40, new Date(start + 521_000), 2000);
});
afterAll(() => {
  project.cleanup();
});

const env = () => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
  DEVCTL_ROOT: root,
  NO_COLOR: '1',
});

function devctl(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: env(),
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const lines = result.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, lines };
}

const tail = (lines: WrittenLine[], n: number) => lines.slice(-n).map((line) => line.raw);

describe('devctl logs <name>', () => {
  it('prints exactly N lines as written (--raw), out and err merged in time order', () => {
    for (const n of [1, 49, 50, 51, 52, 120, 777]) {
      const { code, lines, stderr } = devctl('logs', 'form-service', '--lines', String(n), '--raw');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(lines, `--lines ${n}`).toEqual(tail(form, n));
    }
  });

  it('defaults to 100 lines and marks each line with its stream', () => {
    const { code, lines } = devctl('logs', 'form-service');
    expect(code).toBe(0);
    // A pino error's stack is shown under its line (indented), so count the entries, not rows.
    const entries = lines.filter((line) => /^\d{4}-\d{2}-\d{2}T/.test(line));
    expect(entries).toHaveLength(100);
    const expected = form.slice(-100);
    entries.forEach((line, index) => {
      expect(line.slice(20, 25)).toBe(`${expected[index]?.stream} |`);
    });
    expect(entries[0]?.slice(0, 19)).toBe(pm2Prefix(expected[0]!.time).slice(0, 19));
  });

  it('--json prints one {time, service, stream, level?, text} object per line', () => {
    const { code, lines } = devctl('logs', 'form-service', '--lines', '60', '--json');
    expect(code).toBe(0);
    const objects = lines.map((line) => JSON.parse(line));
    expect(objects).toHaveLength(60);
    const expected = form.slice(-60);
    objects.forEach((object, index) => {
      const keys = Object.keys(object).sort();
      expect(keys).toEqual(
        object.level ? ['level', 'service', 'stream', 'text', 'time'] : ['service', 'stream', 'text', 'time'],
      );
      expect(object.service).toBe('form-service');
      expect(object.stream).toBe(expected[index]?.stream);
      expect(new Date(object.time).toISOString()).toBe(object.time);
      expect(Math.abs(new Date(object.time).getTime() - expected[index]!.time.getTime())).toBeLessThan(1000);
    });
    const pinoError = objects.find((object) => object.level === 'error');
    expect(pinoError?.text).toMatch(/^ERROR request failed #\d+\nTypeError: cannot read/);
    expect(
      objects.some((object) => object.level === undefined && object.text.startsWith('    at handler')),
    ).toBe(true);
  });

  it('--err and --out show one stream alone', () => {
    const err = devctl('logs', 'form-service', '--err', '-n', '75', '--raw');
    expect(err.lines).toEqual(
      tail(
        form.filter((line) => line.stream === 'err'),
        75,
      ),
    );
    const out = devctl('logs', 'form-service', '--out', '-n', '75', '--json');
    expect(out.lines.map((line) => JSON.parse(line).stream)).toEqual(Array(75).fill('out'));
  });

  it('--since keeps only the lines of the given period', () => {
    const since = new Date(form.at(-1)!.time.getTime() - 40_000);
    const expected = form.filter((line) => line.time >= since).map((line) => line.raw);
    const iso = devctl('logs', 'form-service', '--since', since.toISOString(), '--lines', '100000', '--raw');
    expect(iso.lines).toEqual(expected);
    // Everything was written within the last two hours; nothing within the last minute.
    expect(devctl('logs', 'form-service', '--since', '2h', '-n', '100000', '--raw').lines).toHaveLength(
      form.length,
    );
    expect(devctl('logs', 'form-service', '--since', '1m', '--raw').lines).toEqual([]);
  });

  it('--grep returns the last N matching lines, scanning back as far as needed', () => {
    const { code, lines } = devctl('logs', 'form-service', '--grep', 'handler50 .*#(6|13)\\b', '--json');
    expect(code).toBe(0);
    // Event 6 is an uncaught error (50 physical lines), 13 as well: one matching line each.
    expect(lines.map((line) => JSON.parse(line).text)).toEqual([
      '    at handler50 (/srv/services/form/src/routes.ts:50:7) #6',
      '    at handler50 (/srv/services/form/src/routes.ts:50:7) #13',
    ]);
  });

  it('reads across a rotation boundary', () => {
    const folder = logsOf('rotated-service');
    writeEcosystem(root, ['form-service', 'auth-service', 'data-service', 'rotated-service']);
    onTestFinished(() => writeEcosystem(root, ['form-service', 'auth-service', 'data-service']));
    mkdirSync(folder, { recursive: true });
    const lines = generateLines('rotated-service', 60, new Date(Date.now() - 600_000)).filter(
      (l) => l.stream === 'err',
    );
    writeLog(join(folder, 'error__2026-01-01_00-00-00.log'), lines.slice(0, 200));
    writeLog(join(folder, 'error.log'), lines.slice(200));
    const n = lines.length - 100;
    const { lines: printed } = devctl('logs', 'rotated-service', '--err', '-n', String(n), '--raw');
    expect(printed).toEqual(tail(lines, n));
  });
});

describe('devctl logs (every service)', () => {
  it('merges all services by time, each line prefixed by its service', () => {
    const { code, lines, stderr } = devctl('logs', '--lines', '300', '--json');
    expect(code).toBe(0);
    expect(stderr).toContain('data-service has no log file yet');
    const expected = [...form, ...auth]
      .map((line, index) => ({ line, index }))
      .sort((a, b) => a.line.time.getTime() - b.line.time.getTime() || a.index - b.index)
      .slice(-300);
    const services = lines.map((line) => JSON.parse(line).service);
    expect(services).toEqual(
      expected.map(({ line }) => (form.includes(line) ? 'form-service' : 'auth-service')),
    );
    expect(new Set(services)).toEqual(new Set(['form-service', 'auth-service']));
    const text = devctl('logs', '--lines', '5').lines;
    expect(text.filter((line) => /^\S+ (form|auth)-service +(out|err) \|/.test(line))).not.toHaveLength(0);
  });
});

describe('devctl logs errors', () => {
  it('an unknown name exits 2 with the known names and a suggestion', () => {
    const { code, stderr, stdout } = devctl('logs', 'form-servise');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('did you mean form-service?');
    expect(stderr).toContain('form-service, auth-service, data-service');
  });

  it('an invalid regular expression, line count or time exits 2 with the reason', () => {
    const grep = devctl('logs', 'form-service', '--grep', '(unclosed');
    expect(grep.code).toBe(2);
    expect(grep.stderr).toMatch(
      /--grep "\(unclosed" is not a valid regular expression: .*Unterminated group/,
    );
    expect(devctl('logs', 'form-service', '--lines', 'ten').code).toBe(2);
    expect(devctl('logs', 'form-service', '--since', 'yesterday').code).toBe(2);
  });

  it('a service without a log file gets one clear line and exit 0', () => {
    const { code, stdout, stderr } = devctl('logs', 'data-service');
    expect({ code, stdout }).toEqual({ code: 0, stdout: '' });
    expect(stderr.trim().split('\n')).toEqual([
      'devctl: data-service has no log file yet (logs/data-service/out.log, logs/data-service/error.log); it has not run under PM2 here: devctl start data-service',
    ]);
  });

  it('survives a closed pipe: `devctl logs | head -1` exits 0 without a stack', () => {
    // Several MiB of output, far more than a pipe holds, so devctl is still writing when head exits.
    const result = spawnSync(
      'bash',
      [
        '-c',
        'set -o pipefail; "$0" "$1" logs form-service --lines 5000 --raw | head -1',
        process.execPath,
        bin,
      ],
      { cwd: root, env: env(), encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.stdout.split('\n')).toEqual([form.at(-5000)?.raw ?? form[0]?.raw, '']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('devctl logs --follow', () => {
  it('prints the tail, then new lines across truncation and rotation, until interrupted', async () => {
    const folder = logsOf('auth-service');
    const child = spawnProcess(process.execPath, [bin, 'logs', 'auth-service', '-f', '--raw', '-n', '1'], {
      cwd: root,
      env: env(),
      name: 'devctl logs -f',
    });
    onTestFinished(() => child.kill('SIGKILL'));
    await child.waitForOutput(auth.at(-1)!.raw.slice(0, 60));
    const line = (text: string) => `${pm2Prefix(new Date())}${text}\n`;

    appendFileSync(join(folder, 'out.log'), line('appended one'));
    await child.waitForOutput('appended one');
    // pm2-logrotate's copy-and-truncate: the file shrinks to nothing, then grows again.
    truncateSync(join(folder, 'error.log'), 0);
    appendFileSync(join(folder, 'error.log'), line('after truncation'));
    await child.waitForOutput('after truncation');
    // Rename-and-reopen: the old file gets a last line, then a new file appears.
    renameSync(join(folder, 'out.log'), join(folder, 'out.log.1'));
    // Long enough for the follower to look (it polls every second, and the rename wakes it) while
    // no file has the name: the old file must stay followed until the new one appears.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    appendFileSync(join(folder, 'out.log.1'), line('last line of the old file'));
    writeFileSync(join(folder, 'out.log'), line('first line of the new file'));
    await child.waitForOutput('first line of the new file');
    expect(child.output()).toContain('last line of the old file');

    child.child.kill('SIGINT');
    const { code } = await child.exited;
    expect(code).toBe(0);
    expect(child.output().match(/appended one/g)).toHaveLength(1);
  });
});
