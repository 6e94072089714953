import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ResolveDevSecretOptions {
  /** File name under `<rootDir>/.secrets/`, e.g. `jwt-secret`. */
  name: string;
  /** The repository root (see `findRepoRoot`); `.secrets/` must be listed in its .gitignore. */
  rootDir: string;
  /** A stored secret shorter than this is replaced by a new one. */
  minLength?: number;
}

export interface DevSecret {
  value: string;
  file: string;
  /** `generated` the first time, `file` when an earlier start (of any service) created it. */
  source: 'file' | 'generated';
}

function readSecret(file: string, minLength: number): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').trim();
    return value.length >= minLength ? value : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * A development secret shared by every service of the checkout, kept outside git in
 * `<rootDir>/.secrets/<name>` (folder mode 700, file 600). Services that start at the same moment
 * (auth-service and api-gateway under PM2) get the same value: the file is written under a temporary
 * name and hard-linked into place, so a reader never sees it half written and only one writer wins.
 * Only for development and tests; in production the secret must come from the configuration.
 */
export function resolveDevSecret(options: ResolveDevSecretOptions): DevSecret {
  const minLength = options.minLength ?? 32;
  const dir = join(options.rootDir, '.secrets');
  const file = join(dir, options.name);

  const existing = readSecret(file, minLength);
  if (existing) return { value: existing, file, source: 'file' };

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const candidate = randomBytes(48).toString('base64url');
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${candidate}\n`, { mode: 0o600 });
  try {
    try {
      linkSync(temporary, file);
      return { value: candidate, file, source: 'generated' };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    // Another process linked its secret first, or a too-short one is in the way.
    const winner = readSecret(file, minLength);
    if (winner) return { value: winner, file, source: 'file' };
    rmSync(file, { force: true });
    linkSync(temporary, file);
    return { value: candidate, file, source: 'generated' };
  } finally {
    rmSync(temporary, { force: true });
  }
}
