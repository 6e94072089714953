// The chunked backward search of trace/scan.ts against the obvious answer (split the file, keep
// the lines with the needle, newest first), for chunk sizes that cut lines everywhere.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { scanBackward } from '../src/trace/scan';

const dir = tempDir('devctl-scan-');
afterAll(() => dir.cleanup());

function linesOf(file: string, needle: string, budget: number, chunk: number): string[] {
  const found: string[] = [];
  for (const item of scanBackward(file, needle, budget, () => {}, chunk))
    if (item.kind === 'line') found.push(item.text);
  return found;
}

const lines = [
  'x',
  'abc id-1 first',
  '',
  'no match here at all, a longer line than any chunk of the smaller sizes below',
  'id-1 at the start',
  'ends with id-1',
  'id-1 twice id-1 in one line',
  'crlf id-1 line\r',
  'é ünïcode id-1 ✓',
  'last',
];

describe('scanBackward', () => {
  for (const chunk of [1, 2, 3, 5, 7, 16, 64, 1 << 20]) {
    for (const trailingNewline of [true, false]) {
      it(`finds every line with the needle, newest first (chunk ${chunk}, ${trailingNewline ? 'with' : 'without'} a final newline)`, () => {
        const file = join(dir.path, `log-${chunk}-${trailingNewline}`);
        writeFileSync(file, lines.join('\n') + (trailingNewline ? '\n' : ''));
        const expected = lines
          .filter((line) => line.includes('id-1'))
          .map((line) => line.replace(/\r$/, ''))
          .reverse();
        expect(linesOf(file, 'id-1', Number.POSITIVE_INFINITY, chunk)).toEqual(expected);
      });
    }
  }

  it('reads no more than its budget from the end: older lines are not found', () => {
    const file = join(dir.path, 'budget');
    writeFileSync(file, 'old id-1\nfiller line\nnew id-1\n');
    let bytes = 0;
    const found: string[] = [];
    for (const item of scanBackward(file, 'id-1', 12, (n) => (bytes += n), 4))
      if (item.kind === 'line') found.push(item.text);
    expect(found).toEqual(['new id-1']);
    expect(bytes).toBe(12);
  });
});
