import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  /** Absolute path of the new, empty folder. */
  path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  cleanup(): void;
}

/** How long cleanup keeps trying while something still writes into the folder. */
const REMOVE_FOR_MS = 5_000;

/**
 * Removes `path` and everything in it. Node's recursive rmSync reads a folder once, removes what it
 * listed, then retries only the final rmdir: one file written into the folder after that listing
 * (a checkout's `.devctl/stack.json` written by whatever loaded its ecosystem last, a log line of a
 * process that was just killed) fails it with ENOTEMPTY however many retries it is given (seen in CI
 * on `devctl init` projects). Here each attempt lists the folder again; a writer that keeps writing
 * for `forMs` is a leak the error names, with what it left.
 */
export function removeTree(path: string, forMs = REMOVE_FOR_MS): void {
  // Counted from the first failure: removing a project's node_modules can itself take longer than
  // forMs on a loaded machine, and a file written meanwhile must still get its second pass.
  let deadline: number | undefined;
  for (;;) {
    try {
      rmSync(path, { recursive: true, force: true });
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      deadline ??= Date.now() + forMs;
      if ((code !== 'ENOTEMPTY' && code !== 'EBUSY') || Date.now() > deadline) {
        let left = '';
        try {
          left = ` (still in it: ${readdirSync(path).slice(0, 10).join(', ')})`;
        } catch {
          // gone meanwhile
        }
        throw new Error(
          `could not remove ${path}: ${(error as Error).message}${left}; a process the test started may still write there`,
          { cause: error },
        );
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** A fresh folder under the OS temp dir, e.g. `/tmp/<prefix>XXXXXX`. */
export function tempDir(prefix = 'devstack-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => removeTree(path),
  };
}
