import { existsSync, statSync } from 'node:fs';
import { type LogEntry, type LogStream, parseLine } from './entry';
import { readLinesBackward } from './reverse-lines';
import { rotatedFiles } from './rotation';

/** One log of one service: PM2's out_file or error_file. */
export interface LogSource {
  service: string;
  stream: LogStream;
  file: string;
}

export interface ReadOptions {
  /** Only entries at or after this time; reading stops at the first older one. */
  since?: Date;
  /** Only entries whose rendered text matches; reading goes on until enough match. */
  grep?: RegExp;
  /** Continue into the rotated files of the log, newest first (default true). */
  rotated?: boolean;
  /** Read each current file only up to this size (see `snapshotSizes`), for a gapless follow. */
  sizes?: ReadonlyMap<string, number>;
}

/** The current size of each log file, taken before reading a tail that a follower continues. */
export function snapshotSizes(sources: LogSource[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const source of sources) {
    try {
      sizes.set(source.file, statSync(source.file).size);
    } catch {
      sizes.set(source.file, 0);
    }
  }
  return sizes;
}

function mtimeOf(file: string): Date {
  try {
    return statSync(file).mtime;
  } catch {
    return new Date();
  }
}

function matches(grep: RegExp, text: string): boolean {
  grep.lastIndex = 0;
  return grep.test(text);
}

/** The current file of a log and, unless asked not to, its rotated files: newest first. */
export function logFiles(file: string, rotated = true): string[] {
  const files = existsSync(file) ? [file] : [];
  return rotated ? [...files, ...rotatedFiles(file)] : files;
}

/**
 * The entries of one log from the newest to the oldest, across its rotated files. A line without
 * a time of its own (no PM2 prefix, no structured time) takes the time of the next newer line, or
 * the file's modification time, so it stays beside its neighbours when logs are merged.
 */
export function* entriesBackward(
  source: LogSource,
  options: ReadOptions = {},
): Generator<LogEntry, void, undefined> {
  const { since, grep } = options;
  for (const file of logFiles(source.file, options.rotated !== false)) {
    let newerTime = mtimeOf(file);
    const end = file === source.file ? options.sizes?.get(file) : undefined;
    for (const raw of readLinesBackward(file, undefined, end)) {
      const parsed = parseLine(raw, source.service, source.stream);
      const time = parsed.time ?? newerTime;
      newerTime = time;
      if (since && time < since) return;
      if (grep && !matches(grep, parsed.text)) continue;
      yield { ...parsed, time };
    }
  }
}

/**
 * The last `n` entries of one log file (and its rotated files), oldest first: exactly `n` whenever
 * the files hold that many (matching `grep`, newer than `since`), whatever the line lengths.
 */
export function readLastEntries(
  file: string,
  n: number,
  options: ReadOptions & { service?: string; stream?: LogStream } = {},
): LogEntry[] {
  return readLastMerged(
    [{ file, service: options.service ?? '', stream: options.stream ?? 'out' }],
    n,
    options,
  );
}

/**
 * The last `n` entries of several logs merged in time order, oldest first. Each log is read from
 * its end only as far as the merge needs. On equal times a later source in `sources` counts as the
 * newer, which keeps a burst (a stack trace written within one second) together.
 */
export function readLastMerged(sources: LogSource[], n: number, options: ReadOptions = {}): LogEntry[] {
  const readers = sources.map((source) => entriesBackward(source, options));
  const heads: (LogEntry | undefined)[] = readers.map((reader) => reader.next().value ?? undefined);
  const newestFirst: LogEntry[] = [];
  try {
    while (newestFirst.length < n) {
      let pick = -1;
      for (let index = 0; index < heads.length; index++) {
        const head = heads[index];
        const best = heads[pick];
        if (head && (!best || head.time.getTime() >= best.time.getTime())) pick = index;
      }
      if (pick === -1) break;
      newestFirst.push(heads[pick] as LogEntry);
      heads[pick] = readers[pick]?.next().value ?? undefined;
    }
  } finally {
    for (const reader of readers) reader.return(undefined);
  }
  return newestFirst.reverse();
}
