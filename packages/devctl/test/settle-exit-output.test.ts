// PM2 can record an exit before it writes the process's last output (CI: a service that printed
// "FIXTURE_API_TOKEN is required but not set" and exited 78 was reported with "its error log is
// empty"). settleExitOutput waits for those lines, bounded.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSize, linesSince, settleExitOutput } from '../src/pm2/log-tail';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function logFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'devctl-settle-'));
  dirs.push(dir);
  const file = join(dir, 'error.log');
  writeFileSync(file, content);
  return file;
}

describe('settleExitOutput', () => {
  it('waits for lines that land after the exit was seen, then reads them', async () => {
    const file = logFile('older line\n');
    const offset = fileSize(file);
    const late = setTimeout(() => {
      appendFileSync(file, 'config error in api: TOKEN is required but not set\n');
      appendFileSync(file, '{"devctl":"config-error"}\n');
    }, 200);
    await settleExitOutput(file, offset, 5000);
    clearTimeout(late);
    expect(linesSince(file, offset).lines).toEqual([
      'config error in api: TOKEN is required but not set',
      '{"devctl":"config-error"}',
    ]);
  });

  it('returns with what is there when the log already grew past the offset', async () => {
    const file = logFile('older line\n');
    await settleExitOutput(file, 0, 5000);
    expect(readFileSync(file, 'utf8')).toBe('older line\n');
  });

  it('gives up after its bound when the process printed nothing', async () => {
    const file = logFile('');
    await settleExitOutput(file, 0, 100);
    expect(fileSize(file)).toBe(0);
    await settleExitOutput(undefined, 0, 100);
  });
});
