import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Bytes read per step from the end of a file: large enough to hold ~100 typical lines. */
export const CHUNK_SIZE = 64 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

function decodeLine(bytes: Buffer): string {
  const end =
    bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}

/**
 * The lines of a file from the last to the first, reading 64 KiB chunks from the end, so the cost
 * grows with the lines consumed, not with the file size. Every line yielded is whole: a line longer
 * than a chunk is assembled from several chunks before it is yielded (never a fragment). Splitting
 * at the byte 0x0a is safe for UTF-8, which never uses that byte inside a multi-byte character.
 * A `.gz` file (a compressed rotated log) is decompressed whole first; those are bounded in size.
 * `end` reads the file as it was at that size (bytes appended later are left to a follower).
 */
export function* readLinesBackward(
  file: string,
  chunkSize = CHUNK_SIZE,
  end?: number,
): Generator<string, void, undefined> {
  if (file.endsWith('.gz')) {
    yield* linesOfBufferBackward(gunzipSync(readFileSync(file)));
    return;
  }
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    let position = end === undefined ? size : Math.min(end, size);
    // Bytes of the line being assembled, in file order: the part of it read so far.
    let pending: Buffer[] = [];
    let atFileEnd = true;
    while (position > 0) {
      const length = Math.min(chunkSize, position);
      position -= length;
      const chunk = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const read = readSync(fd, chunk, filled, length - filled, position + filled);
        if (read === 0) break;
        filled += read;
      }
      let end = filled;
      // The newline that ends the file closes the last line; it does not start an empty one.
      if (atFileEnd && end > 0 && chunk[end - 1] === NEWLINE) end -= 1;
      atFileEnd = false;
      for (let index = chunk.lastIndexOf(NEWLINE, end - 1); index !== -1 && end > 0; ) {
        const tail = chunk.subarray(index + 1, end);
        yield decodeLine(pending.length === 0 ? tail : Buffer.concat([tail, ...pending]));
        pending = [];
        end = index;
        index = index === 0 ? -1 : chunk.lastIndexOf(NEWLINE, index - 1);
      }
      if (end > 0) pending.unshift(Buffer.from(chunk.subarray(0, end)));
      else if (position === 0 && end === 0 && chunk[0] === NEWLINE) pending.unshift(Buffer.alloc(0));
    }
    if (pending.length > 0) yield decodeLine(Buffer.concat(pending));
  } finally {
    closeSync(fd);
  }
}

function* linesOfBufferBackward(buffer: Buffer): Generator<string, void, undefined> {
  let end = buffer.length;
  if (end > 0 && buffer[end - 1] === NEWLINE) end -= 1;
  if (end === 0 && buffer.length === 0) return;
  for (;;) {
    const index = end === 0 ? -1 : buffer.lastIndexOf(NEWLINE, end - 1);
    yield decodeLine(buffer.subarray(index + 1, end));
    if (index === -1) return;
    end = index;
  }
}
