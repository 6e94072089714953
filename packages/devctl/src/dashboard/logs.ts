// Log lines as the dashboard shows them: the entries of `devctl logs --json` (the same reader),
// masked, with the source line a stack trace names (`file:line`), so the page can show it as a link.
import { isAbsolute, relative, resolve } from 'node:path';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import {
  type LogEntry,
  type LogEntryJson,
  type LogSource,
  logFiles,
  readLastMerged,
  toJson,
} from '../logs/index';
import { maskText } from '../mcp/mask';

export interface DashboardLogLine extends LogEntryJson {
  /** The first stack frame in the project's own code, when the line holds a stack trace. */
  source?: { file: string; line: number; column: number; path: string };
}

/** A frame `at fn (file:line:col)` or `at file:line:col`. */
const FRAME = /\bat (?:[^\n()]*? \()?((?:[A-Za-z]:)?[^\s():]+\.(?:[cm]?[jt]sx?)):(\d+):(\d+)\)?/g;
const MAX_TEXT = 8000;

/** The first frame outside node_modules and Node's own modules, repository-relative. */
export function sourceOf(text: string, root: string): DashboardLogLine['source'] {
  for (const match of text.matchAll(FRAME)) {
    const [, file, line, column] = match;
    if (!file || file.includes('node_modules') || file.startsWith('node:')) continue;
    const shown = isAbsolute(file) ? relative(root, file) : file;
    if (shown.startsWith('..')) continue;
    return { file: shown, line: Number(line), column: Number(column), path: resolve(root, file) };
  }
  return undefined;
}

export function toDashboardLine(entry: LogEntry, root: string): DashboardLogLine {
  const json = toJson(entry);
  const text = maskText(json.text.length > MAX_TEXT ? `${json.text.slice(0, MAX_TEXT)}…` : json.text);
  const source = sourceOf(text, root);
  return { ...json, text, ...(source ? { source } : {}) };
}

export function logSources(services: ServiceEntry[]): LogSource[] {
  const sources: LogSource[] = [];
  for (const service of services) {
    for (const [stream, file] of [
      ['out', service.outFile],
      ['err', service.errorFile],
    ] as const) {
      // One combined file for both streams is read once.
      if (!sources.some((source) => source.file === file))
        sources.push({ service: service.name, stream, file });
    }
  }
  return sources;
}

/** The last `lines` lines of the named services (all when none), merged in time order. */
export function lastLines(ecosystem: Ecosystem, services: ServiceEntry[], lines: number): DashboardLogLine[] {
  const sources = logSources(services).filter((source) => logFiles(source.file).length > 0);
  return readLastMerged(sources, lines).map((entry) => toDashboardLine(entry, ecosystem.root));
}
