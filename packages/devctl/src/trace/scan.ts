// The lines of a log that contain a string, from the end backward, found in whole chunks by the
// native Buffer search: a request id is in a handful of lines among hundreds of thousands, so the
// lines without it are never split or decoded. `readLinesBackward` (src/logs) decodes every line,
// which is right for printing a tail and ten times slower for this.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const CHUNK_SIZE = 1024 * 1024;
const NEWLINE = 0x0a;

export type ScanItem =
  /** A whole line that contains the needle (newest first). */
  | { kind: 'line'; text: string }
  /** The start of the oldest whole line of the chunk just searched: how far back the scan is. */
  | { kind: 'reached'; head: string };

function* matchesIn(region: Buffer, needle: Buffer): Generator<string, void, undefined> {
  // Forward search (Buffer.indexOf is Boyer-Moore-Horspool; lastIndexOf is several times slower
  // for a long needle), then the lines newest first.
  const found: string[] = [];
  for (let at = region.indexOf(needle); at !== -1; ) {
    const start = region.lastIndexOf(NEWLINE, at) + 1;
    const newline = region.indexOf(NEWLINE, at);
    const end = newline === -1 ? region.length : newline;
    const last = end > start && region[end - 1] === 0x0d ? end - 1 : end;
    found.push(region.toString('utf8', start, last));
    if (newline === -1) break;
    at = region.indexOf(needle, newline + 1);
  }
  for (let index = found.length - 1; index >= 0; index--) yield found[index] as string;
}

const headOf = (region: Buffer) => region.toString('utf8', 0, Math.min(region.length, 40));

/**
 * Scans `file` from its end for lines containing `needle`, reading at most `budget` bytes (whole
 * chunks); after each chunk it reports the oldest line reached, so a caller can stop by time.
 * Returns the bytes read through `onBytes`. A `.gz` file is decompressed whole (rotated, bounded).
 */
export function* scanBackward(
  file: string,
  needle: string,
  budget: number,
  onBytes: (bytes: number) => void,
  chunkSize = CHUNK_SIZE,
): Generator<ScanItem, void, undefined> {
  const wanted = Buffer.from(needle, 'utf8');
  if (file.endsWith('.gz')) {
    const whole = gunzipSync(readFileSync(file));
    onBytes(whole.length);
    for (const text of matchesIn(whole, wanted)) yield { kind: 'line', text };
    yield { kind: 'reached', head: headOf(whole) };
    return;
  }
  const fd = openSync(file, 'r');
  try {
    let position = fstatSync(fd).size;
    let read = 0;
    // The bytes of a line cut by the chunk boundary, from the newer chunk: joined to the older one.
    let carry: Buffer = Buffer.alloc(0);
    while (position > 0 && read < budget) {
      const length = Math.min(chunkSize, position, budget - read);
      position -= length;
      const chunk = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const count = readSync(fd, chunk, filled, length - filled, position + filled);
        if (count === 0) break;
        filled += count;
      }
      read += filled;
      onBytes(filled);
      const data =
        carry.length > 0 ? Buffer.concat([chunk.subarray(0, filled), carry]) : chunk.subarray(0, filled);
      // At the start of the file every line is whole; elsewhere the first one may not be.
      const firstNewline = position === 0 ? -1 : data.indexOf(NEWLINE);
      if (firstNewline === -1 && position > 0) {
        carry = Buffer.from(data);
        continue;
      }
      const region = data.subarray(firstNewline + 1);
      carry = Buffer.from(data.subarray(0, Math.max(0, firstNewline)));
      for (const text of matchesIn(region, wanted)) yield { kind: 'line', text };
      yield { kind: 'reached', head: headOf(region) };
    }
  } finally {
    closeSync(fd);
  }
}
