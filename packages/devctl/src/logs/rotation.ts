import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

interface RotatedFile {
  path: string;
  /** Sorts newest first: for `<base>.N` the negated N, for `<stem>__<date>.log` the date text. */
  order: number | string;
  mtimeMs: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The rotated siblings of a log file, newest first. Two naming schemes are recognised:
 * - numbered, as logrotate and devctl's own rotation name them: `out.log.1` (newest), `out.log.2`,
 *   optionally compressed `out.log.3.gz`;
 * - pm2-logrotate's: `out__2026-11-26_12-00-00.log` (or `.log.gz`) beside `out.log`.
 */
export function rotatedFiles(file: string): string[] {
  const folder = dirname(file);
  const base = basename(file);
  const extension = extname(base);
  const stem = extension ? base.slice(0, -extension.length) : base;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const numbered = new RegExp(`^${escapeRegExp(base)}\\.(\\d+)(?:\\.gz)?$`);
  const dated = new RegExp(`^${escapeRegExp(stem)}__(.+)${escapeRegExp(extension)}(?:\\.gz)?$`);
  const found: RotatedFile[] = [];
  for (const name of names) {
    const number = numbered.exec(name);
    const date = number ? undefined : dated.exec(name);
    if (!number && !date) continue;
    const path = join(folder, name);
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      continue;
    }
    found.push({ path, order: number ? -Number(number[1]) : (date?.[1] as string), mtimeMs });
  }
  // Within one scheme the name orders the files exactly; the two schemes (rarely both present)
  // are interleaved by modification time.
  const byName = (a: RotatedFile, b: RotatedFile) => (a.order > b.order ? -1 : a.order < b.order ? 1 : 0);
  const numberedFiles = found.filter((f) => typeof f.order === 'number').sort(byName);
  const datedFiles = found.filter((f) => typeof f.order === 'string').sort(byName);
  const ordered: string[] = [];
  while (numberedFiles.length > 0 || datedFiles.length > 0) {
    const [n, d] = [numberedFiles[0], datedFiles[0]];
    const next = !d || (n && n.mtimeMs >= d.mtimeMs) ? numberedFiles.shift() : datedFiles.shift();
    if (next) ordered.push(next.path);
  }
  return ordered;
}
