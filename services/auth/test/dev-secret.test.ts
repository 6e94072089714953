import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveDevSecret } from '@repo/service-kit';
import { afterEach, describe, expect, it } from 'vitest';

const serviceDir = new URL('..', import.meta.url).pathname;
let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));
const freshRoot = () => {
  root = mkdtempSync(join(tmpdir(), 'dev-secret-'));
  return root;
};

describe('resolveDevSecret (the JWT secret auth-service and api-gateway share in development)', () => {
  it('creates <root>/.secrets/jwt-secret readable by its owner only, then reuses it', () => {
    const rootDir = freshRoot();
    const first = resolveDevSecret({ name: 'jwt-secret', rootDir });
    expect(first.source).toBe('generated');
    expect(first.file).toBe(join(rootDir, '.secrets', 'jwt-secret'));
    expect(first.value.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(rootDir, '.secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);

    const second = resolveDevSecret({ name: 'jwt-secret', rootDir });
    expect(second).toEqual({ value: first.value, file: first.file, source: 'file' });
  });

  it('replaces a stored secret that is too short to be an HS256 key', () => {
    const rootDir = freshRoot();
    resolveDevSecret({ name: 'jwt-secret', rootDir });
    writeFileSync(join(rootDir, '.secrets', 'jwt-secret'), 'short\n');
    const replaced = resolveDevSecret({ name: 'jwt-secret', rootDir });
    expect(replaced.source).toBe('generated');
    expect(readFileSync(replaced.file, 'utf8').trim()).toBe(replaced.value);
    expect(replaced.value.length).toBeGreaterThanOrEqual(32);
  });

  it('gives processes that start at the same moment the same secret', async () => {
    const rootDir = freshRoot();
    const script = `import { resolveDevSecret } from '@repo/service-kit';
      process.stdout.write(resolveDevSecret({ name: 'jwt-secret', rootDir: ${JSON.stringify(rootDir)} }).value);`;
    const run = () =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script],
        // Four processes loading the kit from its TypeScript at once: on a loaded 2-core machine
        // (pnpm test) one took over 20 s. A bound, not a timing check; under the test's 60 s.
        { cwd: serviceDir, timeout: 50_000, env: { PATH: process.env.PATH } },
      );
    const outputs = await Promise.all([run(), run(), run(), run()]);
    const secrets = new Set(outputs.map((o) => o.stdout));
    expect(secrets.size).toBe(1);
    expect(readFileSync(join(rootDir, '.secrets', 'jwt-secret'), 'utf8').trim()).toBe([...secrets][0]);
  });
});
