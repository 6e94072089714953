// Figures measured by the long tests, written into docs/reliability.md between markers when asked
// (RELIABILITY_WRITE_DOCS=1), so the note always shows the last measured run and its conditions.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@repo/test-utils';

export const DOC_FILE = join(repoRoot(), 'docs', 'reliability.md');

/** A line saying on what the figures were measured. */
export function conditions(): string {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus().length} cores, load average ${load} (1/5/15 min)`;
}

/**
 * Replaces the block between `<!-- <name>:begin -->` and `<!-- <name>:end -->` of
 * docs/reliability.md when RELIABILITY_WRITE_DOCS=1; returns whether it wrote.
 */
export function writeFigures(name: string, markdown: string): boolean {
  if (process.env.RELIABILITY_WRITE_DOCS !== '1' || !existsSync(DOC_FILE)) return false;
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const doc = readFileSync(DOC_FILE, 'utf8');
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from === -1 || to < from) return false;
  writeFileSync(DOC_FILE, `${doc.slice(0, from + begin.length)}\n${markdown.trim()}\n${doc.slice(to)}`);
  return true;
}
