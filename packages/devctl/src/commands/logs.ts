import { loadEcosystem } from '../ecosystem/index';
import { usageError } from '../errors';
import {
  compileGrep,
  followSources,
  type LogEntry,
  type LogStream,
  logFiles,
  parseSince,
  readLastMerged,
  renderEntry,
  selectLogs,
  snapshotSizes,
} from '../logs/index';
import type { RenderOptions } from '../logs/render';
import { writeLines } from '../logs/stdout';
import { c } from '../output/colors';

export interface LogsOptions {
  /** Service names (PM2 names); none or `all` means every service of the ecosystem. */
  names: string[];
  /** `--lines`, as typed (default 100). */
  lines?: string;
  follow: boolean;
  err: boolean;
  out: boolean;
  since?: string;
  grep?: string;
  raw: boolean;
  json: boolean;
}

export const DEFAULT_LINES = 100;

export function parseLineCount(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LINES;
  if (!/^\d+$/.test(value.trim()))
    throw usageError(`--lines "${value}" is not a whole number (e.g. --lines 200)`);
  return Number(value.trim());
}

/** `devctl logs [name]`: the last lines of the logs, merged in time order; follows only with -f. */
export async function runLogs(options: LogsOptions): Promise<void> {
  const count = parseLineCount(options.lines);
  const since = options.since === undefined ? undefined : parseSince(options.since);
  const grep = compileGrep(options.grep);
  if (options.raw && options.json) throw usageError('--raw and --json cannot be combined: choose one output');

  const streams: LogStream[] =
    options.err && !options.out ? ['err'] : options.out && !options.err ? ['out'] : ['out', 'err'];
  const { sources, notes } = selectLogs(loadEcosystem(), options.names, streams);
  for (const note of notes) process.stderr.write(`devctl: ${note}\n`);

  // An instance's own log is labelled `name[id]`: the labels, not the services, set the column.
  const labels = new Set(sources.map((source) => source.service));
  const render: RenderOptions = {
    mode: options.json ? 'json' : options.raw ? 'raw' : 'text',
    showService: labels.size > 1,
    serviceWidth: Math.max(0, ...[...labels].map((label) => label.length)),
  };
  // Sizes first: the tail is read up to them and a follower starts there, so no line is lost or doubled.
  const sizes = options.follow ? snapshotSizes(sources) : undefined;
  const readable = sources.filter((source) => logFiles(source.file).length > 0);
  const entries = readLastMerged(readable, count, { since, grep, sizes });
  await writeLines(entries.map((entry) => renderEntry(entry, render)));
  if (!options.follow) return;

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.once('close', stop);
  if (process.stderr.isTTY) process.stderr.write(c.dim('(following; Ctrl-C to stop)\n'));
  try {
    const print = (entry: LogEntry) => {
      if (!process.stdout.destroyed) process.stdout.write(`${renderEntry(entry, render)}\n`);
    };
    await followSources(sources, print, { signal: controller.signal, grep, sizes });
    await writeLines([]);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('close', stop);
  }
}
