// The rotation of one file and the rotator's settings, on real files in a temporary folder. The
// whole rotator under a real PM2 (more than 60 MiB written, the bound, no line lost, `devctl logs`
// across the boundary) is tested in packages/reliability-tests/test/log-rotation.test.ts.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRotateConfig, parseSize, RotateConfigError } from './config';
import { rotateFile, rotateIfLarge } from './rotate';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logrotate-'));
  log = join(dir, 'out.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (file: string) => readFileSync(file, 'utf8');

describe('rotateFile', () => {
  it('moves the content to out.log.1 and empties out.log, which keeps taking appends', () => {
    writeFileSync(log, 'first\nsecond\n');
    const rotation = rotateFile(log, 5);
    expect(rotation).toEqual({ file: log, bytes: 13, removed: [] });
    expect(read(`${log}.1`)).toBe('first\nsecond\n');
    expect(read(log)).toBe('');
    appendFileSync(log, 'third\n');
    expect(read(log)).toBe('third\n');
  });

  it('shifts older rotations up by one and deletes the ones past keep', () => {
    for (let round = 1; round <= 5; round++) {
      writeFileSync(log, `round ${round}\n`);
      rotateFile(log, 3);
    }
    expect(read(`${log}.1`)).toBe('round 5\n');
    expect(read(`${log}.2`)).toBe('round 4\n');
    expect(read(`${log}.3`)).toBe('round 3\n');
    expect(existsSync(`${log}.4`)).toBe(false);
  });

  it('leaves no temporary file behind', () => {
    writeFileSync(log, 'x\n');
    rotateFile(log, 2);
    expect(existsSync(join(dir, `out.log.1.${process.pid}.tmp`))).toBe(false);
  });
});

describe('rotateIfLarge', () => {
  it('rotates at the size, not below it, and ignores a missing file', () => {
    writeFileSync(log, 'a'.repeat(1023));
    expect(rotateIfLarge(log, 1024, 5)).toBeUndefined();
    appendFileSync(log, 'a');
    expect(rotateIfLarge(log, 1024, 5)?.bytes).toBe(1024);
    expect(rotateIfLarge(join(dir, 'missing.log'), 1024, 5)).toBeUndefined();
  });
});

describe('settings', () => {
  it.each([
    ['10M', 10 * 1024 * 1024],
    ['512K', 512 * 1024],
    ['1G', 1024 ** 3],
    ['1.5MiB', 1.5 * 1024 * 1024],
    ['2048', 2048],
    ['  20 mb ', 20 * 1024 * 1024],
  ])('reads the size %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('defaults to 10 MiB x 5, checked every second', () => {
    expect(loadRotateConfig({})).toEqual({
      maxBytes: 10 * 1024 * 1024,
      keep: 5,
      intervalMs: 1000,
      namespace: undefined,
    });
  });

  it('takes the namespace PM2 gives the app, unless LOGROTATE_NAMESPACE says otherwise', () => {
    expect(loadRotateConfig({ namespace: 'devstack' }).namespace).toBe('devstack');
    expect(loadRotateConfig({ namespace: 'devstack', LOGROTATE_NAMESPACE: 'other' }).namespace).toBe('other');
  });

  it.each([
    [{ LOGROTATE_MAX_SIZE: 'big' }, /LOGROTATE_MAX_SIZE .* not "big"/],
    [{ LOGROTATE_MAX_SIZE: '10' }, /LOGROTATE_MAX_SIZE must be a size of at least 1K/],
    [{ LOGROTATE_KEEP: '0' }, /LOGROTATE_KEEP must be a whole number from 1 to 100, not "0"/],
    [{ LOGROTATE_KEEP: 'five' }, /LOGROTATE_KEEP/],
    [{ LOGROTATE_INTERVAL_MS: '5' }, /LOGROTATE_INTERVAL_MS must be a whole number from 100/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadRotateConfig(env)).toThrow(RotateConfigError);
    expect(() => loadRotateConfig(env)).toThrow(message);
  });
});
