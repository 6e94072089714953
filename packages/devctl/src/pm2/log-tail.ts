// Small, bounded reads of a service's PM2 log files, for lifecycle reports: the lines written since
// a start or restart, and the last error lines of a failed service. (The full log reader, with
// exact line counts over huge files, is src/logs/.)
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Never read more than this from one file for a report. */
const MAX_READ_BYTES = 256 * 1024;

/** The current size of a file, 0 when it does not exist (yet). */
export function fileSize(file: string | undefined): number {
  if (!file) return 0;
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * The whole lines written to `file` after byte `fromOffset`, the last `maxLines` of them at most.
 * When the file shrank (rotated or flushed), reads it from the start. `skipped` counts earlier
 * lines left out (or -1 when the bounded read could not count them).
 */
export function linesSince(
  file: string | undefined,
  fromOffset: number,
  maxLines = 200,
): { lines: string[]; skipped: number } {
  if (!file) return { lines: [], skipped: 0 };
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { lines: [], skipped: 0 };
  }
  try {
    const size = statSync(file).size;
    const start = size < fromOffset ? 0 : fromOffset;
    const readFrom = Math.max(start, size - MAX_READ_BYTES);
    const length = size - readFrom;
    if (length <= 0) return { lines: [], skipped: 0 };
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const n = readSync(fd, buffer, filled, length - filled, readFrom + filled);
      if (n === 0) break;
      filled += n;
    }
    let text = buffer.toString('utf8', 0, filled);
    // A bounded read may start mid-line: drop the fragment.
    if (readFrom > start) text = text.slice(text.indexOf('\n') + 1);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const kept = lines.slice(-maxLines);
    const skipped = readFrom > start ? -1 : lines.length - kept.length;
    return { lines: kept, skipped };
  } finally {
    closeSync(fd);
  }
}

/** The last `count` lines of a file (bounded read). */
export function lastLines(file: string | undefined, count: number): string[] {
  return linesSince(file, 0, count).lines;
}

/**
 * PM2 can record that a process exited before it has written that process's last output to the
 * log file (the child's `exit` event may come before its last stdio data, and PM2 writes the data
 * through a stream): a report read at once would show an empty error log for a service that said
 * exactly why it stopped. Waits, bounded, until `file` grows past `offset` and stops growing.
 * Resolves at once when it already holds something past `offset`.
 */
export async function settleExitOutput(
  file: string | undefined,
  offset: number,
  // Under load PM2's write lags the exit it reported: by more than a second in a CI run (load average
  // 15 on 2 cores), by more than 3 s once in a whole `pnpm test` (start.test: exit 78 reported with
  // an empty error log that held the reason a moment later). Only a service that exits without a
  // word waits the whole bound.
  timeoutMs = 6000,
): Promise<void> {
  if (!file) return;
  const deadline = performance.now() + timeoutMs;
  let size = fileSize(file);
  if (size > offset) return;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = fileSize(file);
    if (now > offset && now === size) return;
    size = now;
  }
}
