// devctl's caches and records: JSON files in <root>/node_modules/.cache/devctl, like turbo's cache
// (per checkout, never committed, gone with node_modules): the config dry runs, export's dry runs
// and import scans, the build checks, the last verified build of each service, diagnose's last look
// at memory, the start-up timings.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The path of one cache file. */
export const cacheFile = (root: string, name: string) => join(root, 'node_modules', '.cache', 'devctl', name);

/** The parsed JSON object of a cache file; undefined when absent, unreadable or not an object. */
export function readCache(root: string, name: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(cacheFile(root, name), 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes a cache file aside and renames it, so two devctl commands at the same moment never leave half
 * a file. False when it cannot be written (a read-only checkout, a full disk): a cache only saves work.
 */
export function writeCache(root: string, name: string, value: unknown, mode?: number): boolean {
  const file = cacheFile(root, name);
  try {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(value, null, 1)}\n`, mode === undefined ? {} : { mode });
    renameSync(temporary, file);
    return true;
  } catch {
    return false;
  }
}
