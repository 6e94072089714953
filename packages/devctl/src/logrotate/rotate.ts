// Size-based rotation of one log file that PM2 keeps open for appending.
//
// Why copy-and-truncate rather than rename + PM2's `reloadLogs`: `reloadLogs` reopens the log
// streams of every app of the daemon (other projects' included), and while it reopens them PM2
// destroys the old stream (dropping what is still buffered) and drops any line that arrives before
// the new one is open. PM2 opens its logs with O_APPEND, so after a truncation its next write lands
// at the new end of the file.
//
// The one window for a loss is between the last size check and the truncation: a write PM2 makes
// then is cut away. The copy first catches up with the writer, then waits for a quiet moment (no
// growth for QUIET_MS; logs come in bursts) and truncates right after it. A writer that is never
// quiet (a flood) is truncated after MAX_QUIET_WAIT_MS anyway, at the risk of one chunk.
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';

const CHUNK = 1024 * 1024;
/** No growth for this long counts as a pause of the writer. */
const QUIET_MS = 3;
/** Longest wait for such a pause before truncating anyway. */
const MAX_QUIET_WAIT_MS = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number) => Atomics.wait(pause, 0, 0, ms);

export interface Rotation {
  file: string;
  /** Bytes moved to `<file>.1`. */
  bytes: number;
  /** Rotated files removed because they were past `keep`. */
  removed: string[];
}

/** `out.log.1` -> `out.log.2` ... ; the one past `keep` (and any older) is deleted. */
function shiftRotated(file: string, keep: number): string[] {
  const removed: string[] = [];
  for (let n = keep; ; n++) {
    const old = `${file}.${n}`;
    if (!existsSync(old)) break;
    rmSync(old, { force: true });
    removed.push(old);
  }
  for (let n = keep - 1; n >= 1; n--) {
    const from = `${file}.${n}`;
    if (existsSync(from)) renameSync(from, `${file}.${n + 1}`);
  }
  return removed;
}

/** Copies `file` into a new `<file>.1` and empties `file`; the rotated files shift by one. */
export function rotateFile(file: string, keep: number): Rotation {
  const removed = shiftRotated(file, keep);
  const temporary = `${file}.1.${process.pid}.tmp`;
  const source = openSync(file, 'r+');
  let target: number | undefined;
  let copied = 0;
  try {
    target = openSync(temporary, 'w', 0o644);
    const buffer = Buffer.allocUnsafe(CHUNK);
    const copyUpTo = (size: number) => {
      while (copied < size) {
        const read = readSync(source, buffer, 0, Math.min(CHUNK, size - copied), copied);
        if (read === 0) break;
        writeSync(target as number, buffer, 0, read);
        copied += read;
      }
    };
    const deadline = Date.now() + MAX_QUIET_WAIT_MS;
    for (;;) {
      copyUpTo(fstatSync(source).size);
      sleepSync(QUIET_MS);
      const size = fstatSync(source).size;
      if (size === copied || Date.now() > deadline) {
        copyUpTo(size);
        break;
      }
    }
    ftruncateSync(source, 0);
  } finally {
    closeSync(source);
    if (target !== undefined) closeSync(target);
  }
  renameSync(temporary, `${file}.1`);
  return { file, bytes: copied, removed };
}

/** Rotates `file` when it has reached `maxBytes`; undefined when it is smaller or missing. */
export function rotateIfLarge(file: string, maxBytes: number, keep: number): Rotation | undefined {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return undefined;
  }
  return size >= maxBytes ? rotateFile(file, keep) : undefined;
}
