import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin, SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnNode } from './processes';

// service-build as the services use it: the demo service built as an application (npm packages
// bundled in) into a temporary folder, then run with `node --enable-source-maps` as PM2 runs it.
const serviceBuild = fileURLToPath(new URL('../bin/service-build.mjs', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/demo-service.ts', import.meta.url));
const throwLine =
  readFileSync(fixture, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes("throw new Error('boom outside a request')")) + 1;

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), 'service-build-test-'));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A package folder with `manifest` as its package.json; runs service-build in it. */
function buildIn(name: string, manifest: object, entry: string, flags: string[] = []) {
  const dir = join(temp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, type: 'module', ...manifest }),
  );
  const result = spawnSync(process.execPath, [serviceBuild, entry, ...flags], { cwd: dir, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return dir;
}

function run(bundle: string, env: Record<string, string>, args: string[] = []) {
  return spawnNode(['--enable-source-maps', bundle, ...args], env, { ipc: true });
}

/**
 * The bare (package) specifiers a bundle loads at run time: its import statements and esbuild's
 * `__require("x")` calls of bundled CommonJS. (Plain `require("ajv/...")` text in a bundle is code
 * that ajv generates for its standalone mode, never run here.)
 */
function bareImports(code: string): string[] {
  const patterns = [
    /(?:^|[;\n])\s*import\s*(?:[^;"']*?\bfrom\s*)?["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /\b__require\(["']([^"']+)["']\)/g,
  ];
  const specifiers = patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1] as string));
  return [...new Set(specifiers.filter((s) => !s.startsWith('.') && !isBuiltin(s)))].sort();
}

describe('service-build of an application (no exports in package.json)', () => {
  let bundle: string;
  beforeAll(() => {
    const dir = buildIn('app', {}, fixture);
    bundle = join(dir, 'dist', 'demo-service.js');
  });

  it('bundles fastify, pino, zod and dotenv in: nothing but Node built-ins is imported at run time', () => {
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('fastify');
    expect(bareImports(code)).toEqual([]);
  });

  it('answers /health and tells PM2 it is ready', async () => {
    const port = await freePort();
    const service = run(bundle, { PORT: String(port), REQUIRED_TOKEN: 'abcd', LOG_LEVEL: 'warn' });
    await service.ready;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', pid: service.child.pid });
  });

  it('prints its configuration with --print-config and exits 0', async () => {
    const service = run(bundle, { REQUIRED_TOKEN: 'abcd-secret-value' }, ['--print-config']);
    expect(await service.exited).toBe(0);
    const printed = JSON.parse(service.out());
    expect(printed.service).toBe('demo-service');
    expect(printed.variables).toContainEqual(
      expect.objectContaining({ name: 'REQUIRED_TOKEN', source: 'process' }),
    );
  });

  it('exits 78 on a configuration error, naming the variable', async () => {
    const service = run(bundle, { PORT: String(await freePort()) });
    expect(await service.exited).toBe(78);
    expect(service.err()).toContain('config error in demo-service: REQUIRED_TOKEN is required but not set');
  });

  it('names the TypeScript file and line of a crash in the service', async () => {
    const port = await freePort();
    const service = run(bundle, { PORT: String(port), REQUIRED_TOKEN: 'abcd' });
    await service.ready;
    await fetch(`http://127.0.0.1:${port}/throw-later`);
    expect(await service.exited).toBe(1);
    const fatal = JSON.parse(
      service
        .err()
        .split('\n')
        .find((l) => l.includes('"level":60')) as string,
    );
    expect(fatal.err.stack).toContain(`test/fixtures/demo-service.ts:${throwLine}:`);
  });

  it("maps the service's code to TypeScript and an npm package's code to nothing (the bundle's own position)", () => {
    const code = readFileSync(bundle, 'utf8');
    const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
    const entryAt = (text: string) => {
      const offset = code.indexOf(text);
      expect(offset).toBeGreaterThan(-1);
      const before = code.slice(0, offset).split('\n');
      return map.findEntry(before.length - 1, (before.at(-1) as string).length) as {
        originalSource?: string;
        originalLine?: number;
      };
    };
    const own = entryAt("new Error('boom outside a request')".replace(/'/g, '"'));
    expect(own.originalSource).toMatch(/test\/fixtures\/demo-service\.ts$/);
    expect((own.originalLine as number) + 1).toBe(throwLine);
    expect(entryAt('function fastify(').originalSource).toBeUndefined();
  });

  it("maps service-kit's frames to its TypeScript too (workspace packages bundled from source)", () => {
    const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources).toEqual(
      expect.arrayContaining([expect.stringMatching(/service-kit\/src\/server\.ts$/)]),
    );
  });
});

describe('service-build of a library and of native packages', () => {
  it('keeps every npm package external for a library (package.json has exports)', () => {
    const dir = buildIn('library', { exports: { '.': './dist/demo-service.js' } }, fixture);
    const imports = bareImports(readFileSync(join(dir, 'dist', 'demo-service.js'), 'utf8'));
    expect(imports).toEqual(expect.arrayContaining(['dotenv', 'fastify', 'pino', 'zod']));
  });

  it('leaves @libsql/client (a native addon) to Node even in an application bundle', () => {
    const dir = join(temp, 'native');
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(
      join(dir, 'src', 'index.ts'),
      "import { createClient } from '@libsql/client';\nexport const open = () => createClient({ url: ':memory:' });\n",
    );
    buildIn('native', {}, 'src/index.ts');
    expect(bareImports(readFileSync(join(dir, 'dist', 'index.js'), 'utf8'))).toEqual(['@libsql/client']);
  });

  it('refuses an unknown --packages value', () => {
    const dir = join(temp, 'bad-flag');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"bad-flag","type":"module"}');
    const result = spawnSync(process.execPath, [serviceBuild, fixture, '--packages', 'everything'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--packages must be "bundle" or "external"');
  });
});
