// Writes generated files without losing a hand edit: deploy/.devctl-export.json records the SHA-256
// of each file as last generated. A file is overwritten when it is missing, already identical, or
// still exactly as generated last time; a file changed since (or one devctl never generated) is
// left alone and reported, and nothing is written, unless `force`. All or nothing: the check runs
// on every file before the first write.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GeneratedFile } from './types';

export const MANIFEST = 'deploy/.devctl-export.json';

export type WriteOutcome = 'created' | 'updated' | 'unchanged' | 'overwritten';

export interface WrittenFile {
  path: string;
  outcome: WriteOutcome;
}

export interface WriteResult {
  files: WrittenFile[];
  /** Files changed since devctl last generated them (nothing was written when non-empty). */
  conflicts: string[];
}

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

function readManifest(root: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8')) as {
      files?: Record<string, string>;
    };
    return parsed.files ?? {};
  } catch {
    return {};
  }
}

function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** What writing `files` would do, file by file, and the files a hand edit would be lost in. */
export function planWrites(root: string, files: GeneratedFile[], force: boolean): WriteResult {
  const manifest = readManifest(root);
  const result: WriteResult = { files: [], conflicts: [] };
  for (const file of files) {
    const target = join(root, file.path);
    if (!existsSync(target)) {
      result.files.push({ path: file.path, outcome: 'created' });
      continue;
    }
    const current = sha256(readFileSync(target));
    if (current === sha256(file.content)) result.files.push({ path: file.path, outcome: 'unchanged' });
    else if (manifest[file.path] === current) result.files.push({ path: file.path, outcome: 'updated' });
    else if (force) result.files.push({ path: file.path, outcome: 'overwritten' });
    else result.conflicts.push(file.path);
  }
  return result;
}

/** Writes the files as planWrites decided (nothing when there is a conflict), and the manifest. */
export function writeGenerated(root: string, files: GeneratedFile[], force: boolean): WriteResult {
  const result = planWrites(root, files, force);
  if (result.conflicts.length > 0) return result;
  const manifest = readManifest(root);
  for (const file of files) {
    const outcome = result.files.find((entry) => entry.path === file.path)?.outcome;
    if (outcome !== 'unchanged') writeAtomically(join(root, file.path), file.content);
    manifest[file.path] = sha256(file.content);
  }
  writeAtomically(join(root, MANIFEST), manifestText(manifest));
  return result;
}

/** The manifest recording each generated file's SHA-256, as devctl export writes it. */
export function manifestText(hashes: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify({ generatedBy: 'devctl export', files: sorted }, null, 2)}\n`;
}

/**
 * The manifest for deploy/ files whose text was changed outside devctl export on purpose (devctl
 * init renames the project in them): the hash of each file as it now is, so the next export still
 * takes them for its own output and updates them instead of refusing a hand edit.
 */
export function rehashManifest(manifest: string, contentOf: (path: string) => Buffer | undefined): string {
  const parsed = JSON.parse(manifest) as { files?: Record<string, string> };
  const hashes: Record<string, string> = {};
  for (const path of Object.keys(parsed.files ?? {})) {
    const content = contentOf(path);
    if (content) hashes[path] = sha256(content);
  }
  return manifestText(hashes);
}
