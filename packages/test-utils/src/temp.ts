import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  /** Absolute path of the new, empty folder. */
  path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  cleanup(): void;
}

/** A fresh folder under the OS temp dir, e.g. `/tmp/<prefix>XXXXXX`. */
export function tempDir(prefix = 'devstack-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => rmSync(path, { recursive: true, force: true, maxRetries: 3 }),
  };
}
