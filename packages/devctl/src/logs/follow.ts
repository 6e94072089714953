import { closeSync, type FSWatcher, fstatSync, openSync, readSync, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type LogEntry, parseLine } from './entry';
import type { LogSource } from './reader';

export interface FollowOptions {
  /** Stops following (Ctrl-C, or a test); the returned promise then resolves. */
  signal: AbortSignal;
  grep?: RegExp;
  /** Polling interval, the fallback when fs.watch misses an event (network or overlay file systems). */
  pollIntervalMs?: number;
  /** Where to start in each file (from `snapshotSizes`); by default at its current end. */
  sizes?: ReadonlyMap<string, number>;
}

const READ_SIZE = 64 * 1024;
const NEWLINE = 0x0a;

/** What is known of one followed file: the open descriptor, its identity and how far it was read. */
interface Tail {
  source: LogSource;
  fd: number | undefined;
  inode: number | undefined;
  offset: number;
  /** Bytes after the last newline read: the start of a line still being written. */
  partial: Buffer;
  lastTime: Date;
}

function statOrUndefined(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Prints (through `onEntry`) every line appended to the logs from now on, until `signal` aborts.
 * Survives rotation: a renamed file is read to its end before the new file is opened from its
 * start; a truncated file (pm2-logrotate's copy-and-truncate) is read again from its start.
 */
export function followSources(
  sources: LogSource[],
  onEntry: (entry: LogEntry) => void,
  options: FollowOptions,
): Promise<void> {
  const { signal, grep } = options;
  const tails: Tail[] = sources.map((source) => {
    const stat = statOrUndefined(source.file);
    const tail: Tail = {
      source,
      fd: undefined,
      inode: undefined,
      offset: 0,
      partial: Buffer.alloc(0),
      lastTime: new Date(),
    };
    if (stat) {
      tail.fd = openSync(source.file, 'r');
      tail.inode = stat.ino;
      tail.offset = Math.min(options.sizes?.get(source.file) ?? stat.size, stat.size);
    }
    return tail;
  });

  const emit = (tail: Tail, raw: string) => {
    const parsed = parseLine(raw, tail.source.service, tail.source.stream);
    const time = parsed.time ?? new Date();
    tail.lastTime = time;
    if (grep) {
      grep.lastIndex = 0;
      if (!grep.test(parsed.text)) return;
    }
    onEntry({ ...parsed, time });
  };

  const drain = (tail: Tail) => {
    if (tail.fd === undefined) return;
    const size = fstatSync(tail.fd).size;
    if (size < tail.offset) {
      tail.offset = 0;
      tail.partial = Buffer.alloc(0);
    }
    while (tail.offset < size) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_SIZE, size - tail.offset));
      const read = readSync(tail.fd, chunk, 0, chunk.length, tail.offset);
      if (read === 0) break;
      tail.offset += read;
      let data = chunk.subarray(0, read);
      if (tail.partial.length > 0) data = Buffer.concat([tail.partial, data]);
      let start = 0;
      for (let index = data.indexOf(NEWLINE); index !== -1; index = data.indexOf(NEWLINE, start)) {
        const end = index > start && data[index - 1] === 0x0d ? index - 1 : index;
        emit(tail, data.toString('utf8', start, end));
        start = index + 1;
      }
      tail.partial = Buffer.from(data.subarray(start));
    }
  };

  const closeTail = (tail: Tail) => {
    if (tail.fd === undefined) return;
    closeSync(tail.fd);
    tail.fd = undefined;
    tail.inode = undefined;
  };

  const check = (tail: Tail) => {
    const stat = statOrUndefined(tail.source.file);
    // Renamed away by a rotation, and the new file is there: finish the old file, then the line it
    // ended with. While no file has the name yet, the old one is kept open and read: its writer may
    // still append to it under its new name (CI: a line written between the rename and the new
    // file was lost when the old file was closed at the rename).
    if (tail.fd !== undefined && stat && stat.ino !== tail.inode) {
      drain(tail);
      if (tail.partial.length > 0) emit(tail, tail.partial.toString('utf8'));
      tail.partial = Buffer.alloc(0);
      closeTail(tail);
    }
    if (tail.fd === undefined && stat) {
      tail.fd = openSync(tail.source.file, 'r');
      tail.inode = stat.ino;
      tail.offset = 0;
    }
    drain(tail);
  };

  return new Promise<void>((resolve, reject) => {
    let scheduled = false;
    const checkAll = () => {
      scheduled = false;
      if (signal.aborted) return;
      try {
        for (const tail of tails) check(tail);
      } catch (error) {
        stop();
        reject(error);
      }
    };
    const schedule = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(checkAll);
    };
    const watchers: FSWatcher[] = [];
    const names = new Set(sources.map((source) => basename(source.file)));
    for (const folder of new Set(sources.map((source) => dirname(source.file)))) {
      try {
        const watcher = watch(folder, { persistent: true }, (_event, name) => {
          if (!name || names.has(name.toString())) schedule();
        });
        watcher.on('error', () => watcher.close());
        watchers.push(watcher);
      } catch {
        // The folder does not exist yet (service never started): polling notices it later.
      }
    }
    const poll = setInterval(checkAll, options.pollIntervalMs ?? 1000);
    const stop = () => {
      clearInterval(poll);
      for (const watcher of watchers) watcher.close();
      for (const tail of tails) closeTail(tail);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      stop();
      resolve();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    checkAll();
  });
}
