import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLine } from '../src/logs/entry';
import { readLastEntries, readLastMerged } from '../src/logs/reader';
import { readLinesBackward } from '../src/logs/reverse-lines';
import { rotatedFiles } from '../src/logs/rotation';
import { generateLines, pm2Prefix, writeLog, writeServiceLogs } from './logs-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'devctl-logs-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = new Date('2026-11-26T12:00:00.000Z');
const lastOf = <T>(items: T[], n: number) => (n === 0 ? [] : items.slice(-n));

function linesOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return text.length === 0 ? [] : lines;
}

function lastLines(file: string, n: number, chunkSize?: number): string[] {
  const newestFirst: string[] = [];
  for (const line of readLinesBackward(file, chunkSize)) {
    if (newestFirst.length === n) break;
    newestFirst.push(line);
  }
  return newestFirst.reverse();
}

describe('readLinesBackward', () => {
  const lines = generateLines('form-service', 300, START);
  const file = join(dir, 'mixed.log');
  writeLog(file, lines);
  const all = linesOf(file);

  it('fixture holds lines longer than a chunk and multi-line stack traces', () => {
    expect(all.length).toBeGreaterThan(2000);
    expect(Math.max(...all.map((line) => line.length))).toBeGreaterThan(10_000);
  });

  for (const chunkSize of [61, 1000, 4096, 64 * 1024]) {
    it(`returns exactly the last N whole lines for many N with ${chunkSize}-byte chunks`, () => {
      for (const n of [1, 2, 3, 50, 51, 52, 99, 100, 101, 200, 777, 2000, all.length - 1, all.length]) {
        expect(lastLines(file, n, chunkSize), `N=${n}`).toEqual(lastOf(all, n));
      }
      expect(lastLines(file, all.length + 10, chunkSize)).toEqual(all);
    });
  }

  it('handles a missing final newline, empty lines, CRLF and multi-byte characters at chunk edges', () => {
    const text = `\nfirst\r\n\n€uro ✓ ünï\n${'é'.repeat(5000)}\n\nlast without newline`;
    const edge = join(dir, 'edge.log');
    writeFileSync(edge, text);
    const expected = ['', 'first', '', '€uro ✓ ünï', 'é'.repeat(5000), '', 'last without newline'];
    for (const chunkSize of [1, 2, 3, 5, 64, 4096]) {
      expect([...readLinesBackward(edge, chunkSize)].reverse(), `chunk ${chunkSize}`).toEqual(expected);
    }
  });

  it('reads nothing from an empty file and reads compressed rotated files', () => {
    const empty = join(dir, 'empty.log');
    writeFileSync(empty, '');
    expect([...readLinesBackward(empty)]).toEqual([]);
    const gz = join(dir, 'old.log.1.gz');
    writeFileSync(gz, gzipSync('a\nb\nc\n'));
    expect([...readLinesBackward(gz)]).toEqual(['c', 'b', 'a']);
  });
});

describe('parseLine', () => {
  const time = new Date('2026-11-26T12:00:05.123Z');

  it('takes the time from pino and renders level, message, extra fields and the error stack', () => {
    const raw = `${pm2Prefix(new Date('2026-11-26T12:00:07Z'))}${JSON.stringify({
      level: 50,
      time: time.toISOString(),
      pid: 1,
      hostname: 'h',
      service: 'form-service',
      reqId: 'r-1',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (src/a.ts:1:2)' },
      msg: 'request failed',
    })}`;
    const parsed = parseLine(raw, 'form-service', 'err');
    expect(parsed).toEqual({
      time,
      service: 'form-service',
      stream: 'err',
      level: 'error',
      text: 'ERROR request failed {"reqId":"r-1"}\nError: boom\n    at f (src/a.ts:1:2)',
      raw,
    });
  });

  it("takes PM2's local-time prefix for plain lines and keeps fragments of split JSON as text", () => {
    const at = new Date(2026, 10, 26, 13, 4, 5);
    expect(parseLine(`${pm2Prefix(at)}    at x (src/a.ts:1:1)`, 's', 'err')).toMatchObject({
      time: at,
      text: '    at x (src/a.ts:1:1)',
    });
    const fragment = parseLine(`${pm2Prefix(at)}{"level":30,"msg":"cut`, 's', 'out');
    expect(fragment.level).toBeUndefined();
    expect(fragment.text).toBe('{"level":30,"msg":"cut');
    expect(parseLine('no prefix', 's', 'out').time).toBeUndefined();
  });
});

describe('readLastEntries and readLastMerged', () => {
  const folder = join(dir, 'svc');
  const written = writeServiceLogs(folder, 'form-service', 400, START);
  const out = join(folder, 'out.log');
  const err = join(folder, 'error.log');
  const sources = [
    { service: 'form-service', stream: 'out' as const, file: out },
    { service: 'form-service', stream: 'err' as const, file: err },
  ];

  it('gives exactly N entries of one file, never a fragment first', () => {
    const errLines = written.filter((line) => line.stream === 'err').map((line) => line.raw);
    for (const n of [1, 10, 49, 50, 51, 52, 100, 150, 500]) {
      const entries = readLastEntries(err, n, { service: 'form-service', stream: 'err' });
      expect(
        entries.map((entry) => entry.raw),
        `N=${n}`,
      ).toEqual(lastOf(errLines, n));
    }
  });

  it('merges out and err in time order, with the stream of each line', () => {
    for (const n of [1, 7, 51, 52, 200, 1000, written.length]) {
      const entries = readLastMerged(sources, n);
      expect(entries.length).toBe(n);
      expect(
        entries.map((entry) => `${entry.stream} ${entry.raw}`),
        `N=${n}`,
      ).toEqual(lastOf(written, n).map((line) => `${line.stream} ${line.raw}`));
    }
    expect(readLastMerged(sources, written.length + 5)).toHaveLength(written.length);
  });

  it('--since keeps only newer entries and stops there', () => {
    const since = new Date(START.getTime() + 350 * 1000);
    const expected = written.filter((line) => line.time >= since);
    expect(expected.length).toBeGreaterThan(50);
    const entries = readLastMerged(sources, 100_000, { since });
    expect(entries.map((entry) => entry.raw)).toEqual(expected.map((line) => line.raw));
  });

  it('--grep scans back until N entries match, on the rendered text', () => {
    const grep = /ERROR request failed/;
    const expected = written.filter((line) => line.raw.includes('"request failed'));
    expect(expected.length).toBeGreaterThan(40);
    const entries = readLastMerged(sources, 40, { grep });
    expect(entries.map((entry) => entry.raw)).toEqual(lastOf(expected, 40).map((line) => line.raw));
    // Asking for more than exist returns all of them: the scan reached the start of the files.
    expect(readLastMerged(sources, 10_000, { grep })).toHaveLength(expected.length);
    // The rendered stack of a pino error is searchable too.
    expect(readLastMerged(sources, 1, { grep: /handler50 .*#396/ })[0]?.raw).toContain('#396');
  });

  it('reads across rotated files, numbered and pm2-logrotate-named, newest first', () => {
    for (const scheme of ['numbered', 'dated'] as const) {
      const rotated = join(dir, `rotated-${scheme}`);
      const lines = writeServiceLogs(rotated, 'form-service', 300, START).filter(
        (line) => line.stream === 'err',
      );
      const parts = [lines.slice(0, 300), lines.slice(300, 700), lines.slice(700)];
      const names =
        scheme === 'numbered'
          ? ['error.log.2', 'error.log.1', 'error.log']
          : ['error__2026-11-26_11-00-00.log', 'error__2026-11-26_11-30-00.log', 'error.log'];
      for (const [index, part] of parts.entries()) writeLog(join(rotated, names[index] as string), part);
      expect(rotatedFiles(join(rotated, 'error.log'))).toEqual([
        join(rotated, names[1]!),
        join(rotated, names[0]!),
      ]);
      for (const n of [lines.length - 700 + 1, 450, lines.length]) {
        const entries = readLastEntries(join(rotated, 'error.log'), n, { stream: 'err' });
        expect(
          entries.map((entry) => entry.raw),
          `${scheme} N=${n}`,
        ).toEqual(lastOf(lines, n).map((line) => line.raw));
      }
      expect(readLastEntries(join(rotated, 'error.log'), 10, { rotated: false, stream: 'err' })).toHaveLength(
        10,
      );
    }
  });

  it('still reads the rotated files when the current file is gone', () => {
    const rotated = join(dir, 'gone');
    writeServiceLogs(rotated, 'form-service', 20, START);
    renameSync(join(rotated, 'out.log'), join(rotated, 'out.log.1'));
    expect(readLastEntries(join(rotated, 'out.log'), 3)).toHaveLength(3);
  });
});
