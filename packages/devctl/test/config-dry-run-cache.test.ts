// The dry runs diagnose and the start preflight share (ecosystem/print-config.ts): a pass is cached
// with what it printed and reused while its inputs are the same; any input the configuration
// depends on (a .env file, a variable of the schema in the environment, a development secret, the
// built script) runs it again; the rest of the shell does not. A refusal is never cached.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceEntry } from '../src/ecosystem/index';
import { dryRunConfigs } from '../src/ecosystem/print-config';

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

async function once(env: Record<string, string | undefined> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key];
  try {
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

    const later = new Date(Date.now() + 10_000);
    utimesSync(script, later, later);
    expect(await once({ GREETING: undefined })).toMatchObject({ cached: false });
  });

  it('never caches a refusal: the next look runs it again', async () => {
    writeFileSync(join(cwd, '.env'), 'GREETING=bad\n');
    for (let i = 0; i < 2; i++) {
      const run = await once({ GREETING: undefined });
      expect(run).toMatchObject({ outcome: 'refused', cached: false, code: 78 });
      expect(run?.problems).toEqual([{ name: 'GREETING', message: 'is bad', file: 'services/demo/.env' }]);
    }
  });

  it('a run past its budget is reported as not checked, not as a pass', async () => {
    writeFileSync(join(cwd, '.env'), 'GREETING=fresh\n');
    const [run] = await dryRunConfigs([service], root, { timeoutMs: 20_000, signal: AbortSignal.abort() });
    expect(run).toMatchObject({ outcome: 'failed', cached: false });
  });
});
