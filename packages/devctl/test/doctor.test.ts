// devctl doctor on a real project folder (the diagnose fixture) with a real PM2 daemon: each check
// says ok / warn / fail with the fix, and the exit code follows the failures.
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnedProcess } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorCheck, DoctorReport } from '../src/doctor/checks';
import { type FixtureStack, get, startFixtureStack, waitUntil } from './fixtures/harness';

let stack: FixtureStack;
let foreign: SpawnedProcess;

function writePackageJson(fields: Record<string, unknown>): void {
  writeFileSync(
    join(stack.root, 'package.json'),
    JSON.stringify({ name: 'doctor-fixture', private: true, ...fields }, null, 2),
  );
}

async function doctor(): Promise<{ code: number | null; report: DoctorReport }> {
  const result = await stack.devctl('doctor', '--json');
  return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport };
}

function checkOf(report: DoctorReport, check: string, subject?: string): DoctorCheck {
  const found = report.checks.find(
    (c) => c.check === check && (subject === undefined || c.subject === subject),
  );
  if (!found)
    throw new Error(
      `no ${check} ${subject ?? ''} check in ${JSON.stringify(report.checks.map((c) => [c.check, c.subject]))}`,
    );
  return found;
}

beforeAll(async () => {
  stack = await startFixtureStack(
    [
      { name: 'catalog', folder: 'catalog' },
      { name: 'billing', folder: 'billing', notStarted: true },
      { name: 'orders', folder: 'orders', notStarted: true },
      { name: 'mailer', folder: 'mailer', notStarted: true },
    ],
    {
      beforeStart: async (s) => {
        foreign = await s.holdPort(s.ports.orders as number, 'foreign');
      },
    },
  );
  await waitUntil(
    'catalog healthy',
    async () => (await get(stack.url('catalog', '/health')).catch(() => ({ status: 0 }))).status === 200,
  );
  writePackageJson({ engines: { node: '>=20.19' }, packageManager: 'pnpm@12.4.2' });
  writeFileSync(join(stack.root, 'services/orders/.env'), 'FAULT=none\nFAUTL=leak\n');
  // A large log folder, without writing 300 MiB: a sparse file has the size.
  writeFileSync(join(stack.root, 'services/catalog/logs/old.log'), '');
  truncateSync(join(stack.root, 'services/catalog/logs/old.log'), 300 * 1024 * 1024);
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
});

describe('devctl doctor', () => {
  let report: DoctorReport;
  let code: number | null;

  beforeAll(async () => {
    ({ code, report } = await doctor());
  }, 120_000);

  it('checks Node against engines and pnpm against packageManager', () => {
    expect(checkOf(report, 'node')).toMatchObject({
      status: 'ok',
      summary: `${process.version} satisfies >=20.19 (package.json engines)`,
    });
    expect(checkOf(report, 'pnpm')).toMatchObject({
      status: 'ok',
      summary: '12.4.2 = packageManager pnpm@12.4.2',
    });
  });

  it('fails on a declared package that is not installed, with pnpm install', () => {
    expect(checkOf(report, 'dependencies')).toMatchObject({
      status: 'fail',
      summary: '1 declared package is not installed: services/mailer: smtp-fixture-transport',
      fix: 'pnpm install',
    });
  });

  it('compares .env with .env.example: missing keys and unknown ones', () => {
    expect(checkOf(report, 'env', 'services/orders')).toMatchObject({
      status: 'warn',
      summary:
        'services/orders/.env: missing PORT, INVENTORY_SERVICE_URL (their defaults apply); not in .env.example: FAUTL (a typo?)',
    });
    expect(checkOf(report, 'env', 'services/catalog')).toMatchObject({ status: 'ok' });
  });

  it("runs each service's own configuration check: a required variable not set fails", () => {
    expect(checkOf(report, 'config', 'billing')).toMatchObject({
      status: 'fail',
      summary: 'PAYMENT_API_KEY is required but not set',
      fix: 'set PAYMENT_API_KEY in services/billing/.env',
    });
    expect(checkOf(report, 'config', 'catalog').status).toBe('ok');
  });

  it("ports: free, used by this project's PM2 process (ok), held by someone else (fail)", () => {
    expect(checkOf(report, 'port', `catalog:${stack.ports.catalog}`)).toMatchObject({
      status: 'ok',
      summary: `port ${stack.ports.catalog} is used by catalog, running under PM2 in this project`,
    });
    expect(checkOf(report, 'port', `billing:${stack.ports.billing}`).status).toBe('ok');
    const held = checkOf(report, 'port', `orders:${stack.ports.orders}`);
    expect(held.status).toBe('fail');
    expect(held.summary).toContain(`held by pid ${foreign.pid}`);
    expect(held.fix).toContain(`stop pid ${foreign.pid}`);
  });

  it('the PM2 daemon answers with the installed version', () => {
    expect(checkOf(report, 'pm2')).toMatchObject({
      status: 'ok',
      summary: 'the PM2 daemon answers, version 7.0.4 = installed pm2',
    });
  });

  it('warns about a large log folder and reports free disk', () => {
    expect(checkOf(report, 'logs', 'services/catalog/logs')).toMatchObject({ status: 'warn' });
    expect(checkOf(report, 'logs', 'services/catalog/logs').summary).toMatch(/^30\d MiB of logs/);
    expect(checkOf(report, 'disk').summary).toMatch(/GiB free on the disk of /);
  });

  it('exits 1 when a check fails, and prints each fix for a person', async () => {
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const human = await stack.devctl('doctor');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^devctl doctor: \d+ fail, \d+ warn, \d+ ok/);
    expect(human.stdout).toMatch(
      /FAIL {2}config billing +PAYMENT_API_KEY is required but not set\n +fix: set PAYMENT_API_KEY in services\/billing\/\.env/,
    );
  });
});

describe('devctl doctor on a wrong toolchain', () => {
  it('fails an unsatisfied engines.node and a pnpm of another major', async () => {
    writePackageJson({ engines: { node: '>=99' }, packageManager: 'pnpm@9.0.0' });
    const { report } = await doctor();
    expect(checkOf(report, 'node')).toMatchObject({
      status: 'fail',
      summary: `${process.version} does not satisfy >=99 (package.json engines.node)`,
    });
    expect(checkOf(report, 'pnpm')).toMatchObject({
      status: 'fail',
      summary: 'pnpm 12.4.2 runs, package.json pins pnpm@9.0.0',
    });
  });

  it('passes (exit 0) once the failures are fixed', async () => {
    writePackageJson({ engines: { node: '>=20.19' }, packageManager: 'pnpm@12.4.2' });
    rmSync(join(stack.root, 'services/mailer'), { recursive: true });
    writeFileSync(join(stack.root, 'services/billing/.env'), 'PAYMENT_API_KEY=pk_test_fixture\n');
    await foreign.kill();
    const { code, report } = await doctor();
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
  });
});
