import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * devctl's templates/ folder. Looked for upwards from this module, which is src/scaffold/ when run
 * from source (tests) and dist/ when bundled.
 */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 5; level++) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, 'no-samples'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`devctl's templates/ folder was not found above ${fileURLToPath(import.meta.url)}`);
}

/** Every file under `dir`, as `/`-separated relative paths. */
export function filesUnder(dir: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk('');
  return files.sort();
}
