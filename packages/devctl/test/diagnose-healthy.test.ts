// A healthy stack has no finding; noise (an error from before the last restart the user asked
// for, the restart itself, Node's warnings in error.log) stays out; and the verdict that
// `restart --wait` ends with sees only what happened since the restart. What diagnose finds runs in
// this process (diagnoseInProcess); the bin runs where the CLI is what is checked: the text and the
// exit codes, `--since` parsed from the command line, a usage error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdictAfterRestart } from '../src/diagnose/index';
import type { DiagnoseReport } from '../src/diagnose/types';
import {
  answersHealth,
  diagnoseInProcess,
  type FixtureStack,
  get,
  pm2Rpc,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

let stack: FixtureStack;

const healthy = (name: string) => answersHealth(stack, name);

/** What diagnose finds, in this process; `errors` is whether the bin would exit 1. */
async function diagnoseReport(...names: string[]): Promise<{ errors: boolean; report: DiagnoseReport }> {
  const report = await diagnoseInProcess(stack, { names });
  return { errors: report.findings.some((f) => f.severity === 'error'), report };
}

/** Runs `fn` with this process's environment pointing at the fixture (for in-process calls). */
async function withFixtureEnv<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { PM2_HOME: process.env.PM2_HOME, DEVCTL_ROOT: process.env.DEVCTL_ROOT };
  process.env.PM2_HOME = stack.pm2Home.home;
  process.env.DEVCTL_ROOT = stack.root;
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

beforeAll(async () => {
  stack = await startFixtureStack([
    { name: 'inventory', folder: 'catalog' },
    {
      name: 'orders',
      folder: 'orders',
      dependsOn: ['inventory'],
      env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:inventory}}' },
    },
    { name: 'orders-noise', folder: 'orders', env: { FAULT: 'noise' } },
    { name: 'billing', folder: 'billing', env: { PAYMENT_API_KEY: 'pk_test_fixture' } },
  ]);
  for (const name of ['inventory', 'orders', 'orders-noise', 'billing']) {
    await waitUntil(`${name} healthy`, () => healthy(name));
  }
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
});

describe('diagnose on a healthy stack', () => {
  it('finds nothing and says what it checked', async () => {
    const { errors, report } = await diagnoseReport();
    expect(report.findings).toEqual([]);
    expect(report.healthy).toBe(true);
    expect(errors).toBe(false);
    expect(report.checked[0]).toMatch(/^PM2 daemon \(PM2_HOME=.*\): running/);
    for (const name of ['inventory', 'orders', 'orders-noise', 'billing']) {
      expect(report.checked.find((line) => line.startsWith(`${name}: `))).toMatch(
        new RegExp(`^${name}: online \\(pid \\d+\\), logs since .*, /health 200, /ready 200, port \\d+ ok`),
      );
    }
  });

  it('prints "stack healthy" for a person, and exits 0', async () => {
    const result = await stack.devctl('diagnose');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✔ stack healthy: no problem found\nchecked:\n {2}PM2 daemon/);
  });

  it('with no PM2 daemon: one error, nothing from the logs of earlier runs', async () => {
    // Another PM2_HOME: this devctl sees no daemon, while the stack still runs under the test's.
    const home = tempDir('devctl-no-daemon-');
    try {
      const report = await diagnoseInProcess(stack, {}, { PM2_HOME: home.path });
      const [first, ...rest] = report.findings;
      expect(first).toMatchObject({
        kind: 'missing',
        service: 'all',
        severity: 'error',
        summary: `the PM2 daemon is not running (PM2_HOME=${home.path}): no service of this project runs`,
        next: 'pnpm pm2:start',
      });
      // What remains is true: each port is held by a process of another PM2 daemon.
      for (const finding of rest) {
        expect(finding).toMatchObject({ kind: 'port-conflict', severity: 'warning' });
        expect(finding.summary).toContain('run by a PM2 daemon');
      }
      expect(rest.map((f) => f.service).sort()).toEqual(['billing', 'inventory', 'orders', 'orders-noise']);
    } finally {
      home.cleanup();
    }
  });

  it('treats Node warnings in error.log as noise', () => {
    const errorLog = readFileSync(join(stack.root, 'services/orders/logs/orders-noise.error.log'), 'utf8');
    expect(errorLog).toContain('ExperimentalWarning: the orders queue API is experimental');
  });
});

describe('noise is not a finding', () => {
  // When orders answered its 500 (its error line is no later than that).
  let erredAt = 0;

  it('an error newer than the last start is a finding (the control)', async () => {
    expect((await get(stack.url('orders', '/boom'))).status).toBe(500);
    erredAt = Date.now();
    const { errors, report } = await diagnoseReport('orders');
    expect(report.findings.map((f) => [f.service, f.kind])).toEqual([['orders', 'request-error']]);
    expect(errors).toBe(true);
    // --since a moment after it (as after a fix): it is history, with no restart at all.
    await waitUntil('the clock to pass the error', () => Date.now() > erredAt);
    const later = await stack.devctl('diagnose', '--json', '--since', new Date().toISOString());
    expect((JSON.parse(later.stdout) as DiagnoseReport).findings).toEqual([]);
    expect(later.code).toBe(0);
    // ...and --since a while before it keeps it.
    const before = await stack.devctl('diagnose', 'orders', '--json', '--since', '5m');
    expect((JSON.parse(before.stdout) as DiagnoseReport).findings.map((f) => f.kind)).toEqual([
      'request-error',
    ]);
    const bad = await stack.devctl('diagnose', '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "yesterday" is neither a duration');
  });

  it('after a restart the user asked for, the older error and the restart are not findings', async () => {
    // PM2 prefixes have second precision: let the restart fall in a later second than the error.
    await waitUntil(
      'a later second than the error',
      () => Math.floor(Date.now() / 1000) > Math.floor(erredAt / 1000),
    );
    await pm2Rpc(stack, 'restart', 'orders');
    await waitUntil('orders healthy again', () => healthy('orders'));
    expect((await pm2StatusRpc(stack, 'orders'))?.restarts).toBe(1);
    const { errors, report } = await diagnoseReport();
    expect(report.findings).toEqual([]);
    expect(errors).toBe(false);
  });
});

describe('verdictAfterRestart (the end of restart --wait)', () => {
  it('is healthy when nothing went wrong since the restart', async () => {
    const since = new Date();
    await pm2Rpc(stack, 'restart', 'orders-noise');
    await waitUntil('orders-noise healthy again', () => healthy('orders-noise'));
    const verdict = await withFixtureEnv(() => verdictAfterRestart(['orders-noise'], since));
    expect(verdict).toMatchObject({ healthy: true, findings: [] });
  });

  it('reports a new problem since the restart as a finding', async () => {
    const since = new Date();
    await pm2Rpc(stack, 'stop', 'inventory');
    expect((await get(stack.url('orders', '/orders/7'))).status).toBe(502);
    const verdict = await withFixtureEnv(() => verdictAfterRestart(['orders'], since));
    expect(verdict.healthy).toBe(false);
    expect(verdict.findings.map((f) => [f.service, f.kind, f.severity])).toEqual([
      ['inventory', 'stopped', 'error'],
    ]);
    expect(verdict.findings[0]?.summary).toContain('orders fails because of it');
  });
});
