// Which log files a request for logs reads: the one answer `devctl logs` and the MCP `logs` tool
// share (they drifted apart once: the tool refused `devctl-logrotate`, which the CLI reads).
import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { type Ecosystem, resolveServices, type ServiceEntry } from '../ecosystem/index';
import { usageError } from '../errors';
import type { LogStream } from './entry';
import { type LogSource, logFiles } from './reader';

export interface LogSelection {
  services: ServiceEntry[];
  streams: LogStream[];
  /** Every file of the selection, existing or not (a follower waits for one to appear). */
  sources: LogSource[];
  /** One sentence per service that has no log file yet, with what to run. */
  notes: string[];
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

/** A --grep pattern as a regular expression; a usage error (exit 2) naming it when it is not one. */
export function compileGrep(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw usageError(`--grep "${pattern}" is not a valid regular expression: ${(error as Error).message}`);
  }
}

/**
 * The log files of `names` (PM2 names of services or tool apps such as devctl-logrotate; none or
 * `all`: every service) for `streams`; a file both streams share is read once.
 */
export function selectLogs(ecosystem: Ecosystem, names: string[], streams: LogStream[]): LogSelection {
  const services = resolveServices(ecosystem, names, { tools: true });
  const sources: LogSource[] = [];
  const notes: string[] = [];
  for (const service of services) {
    const own: (LogSource & { combined?: string })[] = [];
    for (const stream of streams) {
      const file = stream === 'out' ? service.outFile : service.errorFile;
      // One combined file for both streams is read once.
      if (own.some((source) => source.file === file || source.combined === file)) continue;
      // Several instances without merge_logs: one file per instance, named by its PM2 id.
      const perInstance = Number(service.app.instances) > 1 ? instanceLogFiles(file) : [];
      if (perInstance.length > 0) {
        for (const instance of perInstance)
          own.push({
            service: `${service.name}[${instance.id}]`,
            stream,
            file: instance.file,
            combined: file,
          });
      } else own.push({ service: service.name, stream, file });
    }
    if (own.every((source) => logFiles(source.file).length === 0)) {
      const where = own.map((source) => relative(ecosystem.root, source.file)).join(', ');
      notes.push(
        `${service.name} has no log file yet (${where}); it has not run under PM2 here: devctl start ${service.name}`,
      );
    }
    sources.push(...own.map(({ combined: _combined, ...source }) => source));
  }
  return { services, streams, sources, notes };
}
