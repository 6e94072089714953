// The dry runs start's preflight, diagnose, env and doctor share (ecosystem/print-config.ts): a pass
// is cached on disk with what it printed and reused while its inputs are the same, by every command
// and the next process; any input the configuration depends on (a .env file, a variable of the
// schema or of the ecosystem's env, the stack's port block, a development secret, the built code by
// content) runs it again; the rest of the shell does not. A refusal is never cached. Export's
// clean-room dry runs and import scans have their own cache (export/read-config.ts), checked last.
import { cpSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceEntry } from '../src/ecosystem/index';
import { builtCodeHash, dryRunConfigs, printConfigCached } from '../src/ecosystem/print-config';
import { ExportCache } from '../src/export/read-config';

const scratch = tempDir('devctl-dry-run-cache-');
afterAll(() => scratch.cleanup());
const root = scratch.path;
const cwd = join(root, 'services', 'demo');
mkdirSync(cwd, { recursive: true });
writeFileSync(join(cwd, 'package.json'), '{"dependencies":{"@repo/service-kit":"workspace:*"}}\n');
// What the kit's --print-config does, in a few lines: GREETING from the process or .env, refused
// (exit 78) when it is "bad".
const script = join(cwd, 'print.mjs');
writeFileSync(
  script,
  `import { existsSync, readFileSync } from 'node:fs';
const file = existsSync('.env') ? readFileSync('.env', 'utf8') : '';
const greeting = process.env.GREETING ?? /GREETING=(.*)/.exec(file)?.[1] ?? 'hello';
if (greeting === 'bad') {
  process.stderr.write(JSON.stringify({ devctl: 'config-error', variables: [{ name: 'GREETING', message: 'is bad', file: 'services/demo/.env' }] }) + '\\n');
  process.exit(78);
}
console.log(JSON.stringify({ service: 'demo', variables: [{ name: 'GREETING', value: greeting, source: 'default' }] }));
`,
);

const service: ServiceEntry = {
  name: 'demo',
  namespace: 'x',
  cwd,
  folder: 'services/demo',
  script: 'print.mjs',
  port: 1,
  outFile: '',
  errorFile: '',
  dependsOn: [],
  env: {},
  kind: 'service',
  app: {},
};

/** One dry run in `env`: through diagnose's and start's dryRunConfigs, or env's and doctor's printConfigCached. */
async function once(env: Record<string, string | undefined> = {}, via: 'diagnose' | 'env' = 'diagnose') {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key];
  try {
    if (via === 'env') {
      const result = await printConfigCached(service, root, { timeoutMs: 20_000 });
      return { ...result, outcome: result.code === 0 ? 'passed' : 'other' };
    }
    const [run] = await dryRunConfigs([service], root, { timeoutMs: 20_000 });
    return run;
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

describe('dry-run cache', () => {
  it('runs, then reuses the pass with what it printed, until an input changes', async () => {
    const first = await once({ GREETING: undefined });
    expect(first).toMatchObject({ outcome: 'passed', cached: false });
    expect(first?.printed?.variables?.[0]?.value).toBe('hello');

    expect(await once({ GREETING: undefined, UNRELATED_SHELL_VARIABLE: 'x' })).toMatchObject({
      outcome: 'passed',
      cached: true,
    });
    // A variable of the schema in the environment is an input.
    expect(await once({ GREETING: 'hi' })).toMatchObject({ outcome: 'passed', cached: false });

    writeFileSync(join(cwd, '.env'), 'GREETING=from-file\n');
    const edited = await once({ GREETING: undefined });
    expect(edited).toMatchObject({ outcome: 'passed', cached: false });
    expect(edited?.printed?.variables?.[0]?.value).toBe('from-file');
    expect(await once({ GREETING: undefined })).toMatchObject({ cached: true });

    mkdirSync(join(root, '.secrets'), { recursive: true });
    writeFileSync(join(root, '.secrets', 'jwt-secret'), 'x'.repeat(40));
    expect(await once({ GREETING: undefined })).toMatchObject({ cached: false });

    expect(await once({ GREETING: undefined })).toMatchObject({ cached: true });
    // A rebuild that writes the same code (a new mtime, same content) is the same configuration.
    const later = new Date(Date.now() + 10_000);
    utimesSync(script, later, later);
    expect(await once({ GREETING: undefined })).toMatchObject({ cached: true });
  });

  it('never caches a refusal: the next look runs it again', async () => {
    writeFileSync(join(cwd, '.env'), 'GREETING=bad\n');
    for (let i = 0; i < 2; i++) {
      const run = await once({ GREETING: undefined });
      expect(run).toMatchObject({ outcome: 'refused', cached: false, code: 78 });
      expect(run?.problems).toEqual([{ name: 'GREETING', message: 'is bad', file: 'services/demo/.env' }]);
    }
  });

  it('serves env and diagnose from one cache, and a .env or code edit is seen by the next command', async () => {
    writeFileSync(join(cwd, '.env'), 'GREETING=one\n');
    const first = await once({ GREETING: undefined }, 'env');
    expect(first).toMatchObject({ code: 0, cached: false });
    expect(first?.printed?.variables?.[0]?.value).toBe('one');
    // What env paid for, diagnose (another command, reading the file anew) takes, and back.
    expect(await once({ GREETING: undefined }, 'diagnose')).toMatchObject({
      outcome: 'passed',
      cached: true,
    });
    expect(await once({ GREETING: undefined }, 'env')).toMatchObject({ code: 0, cached: true });

    // A .env edit: the next command, whichever, runs it and prints the new value; then it is cached.
    writeFileSync(join(cwd, '.env'), 'GREETING=two\n');
    const edited = await once({ GREETING: undefined }, 'diagnose');
    expect(edited).toMatchObject({ outcome: 'passed', cached: false });
    expect(edited?.printed?.variables?.[0]?.value).toBe('two');
    const after = await once({ GREETING: undefined }, 'env');
    expect(after).toMatchObject({ cached: true });
    expect(after?.printed?.variables?.[0]?.value).toBe('two');

    // A code edit that keeps the size and the mtime (a rebuild within the clock's resolution, a
    // restored copy): the content is the key, so it is seen.
    const original = readFileSync(script, 'utf8');
    const { mtime, atime } = statSync(script);
    const changed = original.replace("?? 'hello'", "?? 'HELLO'");
    expect(changed).not.toBe(original);
    writeFileSync(join(cwd, '.env'), '');
    expect(await once({ GREETING: undefined }, 'env')).toMatchObject({ code: 0, cached: false });
    writeFileSync(script, changed);
    utimesSync(script, atime, mtime);
    const rebuilt = await once({ GREETING: undefined }, 'env');
    expect(rebuilt).toMatchObject({ code: 0, cached: false });
    expect(rebuilt?.printed?.variables?.[0]?.value).toBe('HELLO');
    writeFileSync(script, original);
  });

  it("keys on the ecosystem's env and the stack's port block, which the schema does not name", async () => {
    writeFileSync(join(cwd, '.env'), 'GREETING=three\n');
    await once({ GREETING: undefined });
    expect(await once({ GREETING: undefined })).toMatchObject({ cached: true });
    // Another block of ports moves the kit's defaults (PORT, service URLs) whatever the schema lists.
    expect(await once({ GREETING: undefined, DEVSTACK_PORT_OFFSET: '20' })).toMatchObject({ cached: false });
    const withEnv = { ...service, env: { FEATURE: 'on' } };
    const [edited] = await dryRunConfigs([withEnv], root, { timeoutMs: 20_000 });
    expect(edited).toMatchObject({ outcome: 'passed', cached: false });
    const [again] = await dryRunConfigs([withEnv], root, { timeoutMs: 20_000 });
    expect(again).toMatchObject({ outcome: 'passed', cached: true });
  });

  it("export's cache: keyed on the build's content and the whole environment, refusals kept, timeouts not", () => {
    const exportRoot = join(root, 'export-root');
    mkdirSync(exportRoot, { recursive: true });
    const first = new ExportCache(exportRoot);
    const env = { PATH: '/usr/bin', NODE_ENV: 'production' };
    const key = first.runKey(service, env);
    expect(key).toBeDefined();
    const printed = { service: 'demo', variables: [{ name: 'GREETING', value: 'hello', source: 'default' }] };
    first.setRun(key, { code: 0, stdout: '', stderr: '', printed });
    const refusedKey = first.runKey(service, { ...env, GREETING: 'bad' });
    const problems = [{ name: 'GREETING', message: 'is bad', file: '.env' }];
    first.setRun(refusedKey, { code: 78, stdout: '', stderr: 'config error', problems });
    const timedOutKey = first.runKey(service, { ...env, GREETING: 'slow' });
    first.setRun(timedOutKey, { code: null, stdout: '', stderr: '' });
    first.setImports('code-hash', ['pino']);
    first.save();

    // The next export (another process) reads them back.
    const next = new ExportCache(exportRoot);
    expect(next.run(key)).toMatchObject({ code: 0, printed });
    expect(next.run(refusedKey)).toMatchObject({ code: 78, problems });
    expect(next.run(timedOutKey)).toBeUndefined();
    expect(next.imports('code-hash')).toEqual(['pino']);
    // Any variable, any value: another key.
    expect(next.runKey(service, { ...env, EXTRA: '1' })).not.toBe(key);
    expect(next.runKey(service, { ...env, NODE_ENV: 'development' })).not.toBe(key);
    // The same build in another folder (export's clean room, a copy) is the same code...
    const copy = join(root, 'copy');
    mkdirSync(copy, { recursive: true });
    cpSync(script, join(copy, 'print.mjs'));
    cpSync(join(cwd, 'package.json'), join(copy, 'package.json'));
    expect(builtCodeHash({ ...service, cwd: copy })).toBe(builtCodeHash(service));
    expect(next.runKey({ ...service, cwd: copy }, env)).toBe(key);
    // ...and an edit of it is not.
    writeFileSync(join(copy, 'print.mjs'), `${readFileSync(script, 'utf8')}\n// edited\n`);
    expect(next.runKey({ ...service, cwd: copy }, env)).not.toBe(key);
  });

  it('a run past its budget is reported as not checked, not as a pass', async () => {
    writeFileSync(join(cwd, '.env'), 'GREETING=fresh\n');
    const [run] = await dryRunConfigs([service], root, { timeoutMs: 20_000, signal: AbortSignal.abort() });
    expect(run).toMatchObject({ outcome: 'failed', cached: false });
  });
});
