// `devctl env`: the environment a service resolves, with each value's source, secrets masked by
// devctl itself (the fixture service prints its configuration unmasked on purpose).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson } from './fixtures/harness';

const TOKEN = 'tok-7a6b5c4d3e2f-secret';
const DB_PASSWORD = 'hunter2-db-pw';

interface EnvJson {
  services: {
    name: string;
    folder: string;
    variables: { name: string; value: string | null; source: string; setBy: string | null }[];
  }[];
}

describe('devctl env', () => {
  let fixture: Fixture;
  // This fixture's server prints no hashes (not the kit): the fields are there, empty. The real
  // kit's hashes are checked in diagnose-config.test.ts.
  const NO_HASH = { hash: null, mustMatch: null, fallback: null };

  beforeAll(async () => {
    fixture = await createFixture([
      { name: 'api', env: { FIXTURE_API_TOKEN: TOKEN } },
      { name: 'mailer' },
      { name: 'ghost', app: { script: 'missing.js' } },
    ]);
    writeFileSync(
      join(fixture.dir('api'), '.env'),
      `DATABASE_URL=postgres://app:${DB_PASSWORD}@db.local:5432/app\n`,
    );
    writeFileSync(join(fixture.root, '.env'), 'GREETING=hola\n');
    mkdirSync(fixture.dir('mailer'), { recursive: true });
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('gives each variable its value and source, masking secrets by name and passwords in URLs', async () => {
    const result = await fixture.devctl(['env', 'api', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [api] = parseJson<EnvJson>(result).services;
    expect(api?.name).toBe('api');
    expect(api?.folder).toBe(join('services', 'api'));
    const byName = Object.fromEntries((api?.variables ?? []).map((v) => [v.name, v]));
    expect(byName.PORT).toEqual({
      name: 'PORT',
      value: String(fixture.ports.api),
      source: 'process',
      setBy: 'ecosystem.config.js',
      ...NO_HASH,
    });
    expect(byName.FIXTURE_API_TOKEN).toEqual({
      name: 'FIXTURE_API_TOKEN',
      value: '****',
      source: 'process',
      setBy: 'ecosystem.config.js',
      ...NO_HASH,
    });
    expect(byName.DATABASE_URL).toEqual({
      name: 'DATABASE_URL',
      value: 'postgres://app:****@db.local:5432/app',
      source: 'service .env',
      setBy: null,
      ...NO_HASH,
    });
    expect(byName.GREETING).toEqual({
      name: 'GREETING',
      value: 'hola',
      source: 'root .env',
      setBy: null,
      ...NO_HASH,
    });
    expect(result.stdout).not.toContain(TOKEN);
    expect(result.stdout).not.toContain(DB_PASSWORD);
  });

  it('prints a table per service for people, never a secret', async () => {
    const result = await fixture.devctl(['env', 'api', 'mailer']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`api (${join('services', 'api')})`);
    expect(result.stdout).toMatch(/^variable\s+value\s+source$/m);
    expect(result.stdout).toMatch(/^FIXTURE_API_TOKEN\s+\*\*\*\*\s+process \(ecosystem\.config\.js\)$/m);
    expect(result.stdout).toContain(`mailer (${join('services', 'mailer')})`);
    expect(result.stdout).toMatch(/^GREETING\s+hola\s+root \.env$/m);
    expect(result.stdout).toMatch(/^FIXTURE_API_TOKEN\s+\(unset\)\s+default$/m);
    expect(result.stdout).not.toContain(TOKEN);
    expect(result.stdout).not.toContain(DB_PASSWORD);
  });

  it('exits 1 naming the service whose entry cannot run, and 2 for an unknown name', async () => {
    const missing = await fixture.devctl(['env', 'ghost']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(join('services', 'ghost', 'missing.js'));
    const unknown = await fixture.devctl(['env', 'mailr']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean mailer?');
  });

  it('answers from the dry run an earlier devctl paid for, until a .env or the code changes', async () => {
    // The fixture's --print-config appends its name to print-config.log: the dry runs, counted.
    const log = join(fixture.root, 'print-config.log');
    const dryRuns = () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((line) => line === 'api').length
        : 0;
    const greeting = async () => {
      const result = await fixture.devctl(['env', 'api', '--json']);
      expect(result.code, result.stderr).toBe(0);
      return parseJson<EnvJson>(result).services[0]?.variables.find((v) => v.name === 'GREETING');
    };
    const envFile = join(fixture.dir('api'), '.env');
    const original = readFileSync(envFile, 'utf8');
    writeFileSync(envFile, `${original}GREETING=first\n`);
    expect(await greeting()).toMatchObject({ value: 'first', source: 'service .env' });
    const counted = dryRuns();
    // Another process, the same inputs: no dry run.
    expect(await greeting()).toMatchObject({ value: 'first' });
    expect(dryRuns()).toBe(counted);
    // An edited .env: the next command runs it and shows the new value.
    writeFileSync(envFile, `${original}GREETING=second\n`);
    expect(await greeting()).toMatchObject({ value: 'second', source: 'service .env' });
    expect(dryRuns()).toBe(counted + 1);
    // Edited code: run again.
    appendFileSync(join(fixture.dir('api'), 'server.js'), '\n// edited\n');
    expect(await greeting()).toMatchObject({ value: 'second' });
    expect(dryRuns()).toBe(counted + 2);
    writeFileSync(envFile, original);
  });
});
