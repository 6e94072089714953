import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { loadEcosystem, resolveServices } from '../ecosystem/index';
import { usageError } from '../errors';
import {
  followSources,
  type LogEntry,
  type LogSource,
  type LogStream,
  logFiles,
  parseSince,
  readLastMerged,
  renderEntry,
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

export function compileGrep(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw usageError(`--grep "${pattern}" is not a valid regular expression: ${(error as Error).message}`);
  }
}

/**
 * The per-instance logs PM2 writes for an app of several instances when merge_logs is off:
 * `out.log` becomes `out-<pm_id>.log`, one per instance.
 */
export function instanceLogFiles(file: string): { id: number; file: string }[] {
  const dir = dirname(file);
  const ext = extname(file);
  const base = basename(file, ext);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .flatMap((name) => {
      const id =
        name.startsWith(`${base}-`) && name.endsWith(ext)
          ? name.slice(base.length + 1, name.length - ext.length)
          : '';
      return /^\d+$/.test(id) ? [{ id: Number(id), file: join(dir, name) }] : [];
    })
    .sort((a, b) => a.id - b.id);
}

/** `devctl logs [name]`: the last lines of the logs, merged in time order; follows only with -f. */
export async function runLogs(options: LogsOptions): Promise<void> {
  const count = parseLineCount(options.lines);
  const since = options.since === undefined ? undefined : parseSince(options.since);
  const grep = compileGrep(options.grep);
  if (options.raw && options.json) throw usageError('--raw and --json cannot be combined: choose one output');

  const ecosystem = loadEcosystem();
  const services = resolveServices(ecosystem, options.names, { tools: true });
  const streams: LogStream[] =
    options.err && !options.out ? ['err'] : options.out && !options.err ? ['out'] : ['out', 'err'];

  const sources: LogSource[] = [];
  for (const service of services) {
    const files = new Set<string>();
    const own: LogSource[] = [];
    for (const stream of streams) {
      const file = stream === 'out' ? service.outFile : service.errorFile;
      // One combined file for both streams is read once.
      if (files.has(file)) continue;
      files.add(file);
      // Several instances without merge_logs: one file per instance, named by its PM2 id.
      const perInstance = Number(service.app.instances) > 1 ? instanceLogFiles(file) : [];
      if (perInstance.length > 0) {
        for (const instance of perInstance)
          own.push({ service: `${service.name}[${instance.id}]`, stream, file: instance.file });
      } else own.push({ service: service.name, stream, file });
    }
    if (own.every((source) => logFiles(source.file).length === 0)) {
      const where = own.map((source) => relative(ecosystem.root, source.file)).join(', ');
      process.stderr.write(
        `devctl: ${service.name} has no log file yet (${where}); it has not run under PM2 here: devctl start ${service.name}\n`,
      );
    }
    sources.push(...own);
  }

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
