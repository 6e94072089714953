// A caller that calls its dependency all the time (as worker-service polls data-service) logs a
// failure at every restart of that dependency. Restarted with devctl on purpose, the dependency
// answers again: those failures are the restart, said in the caller's checked line, not a warning
// (trial 9: "worker-service failed to reach data-service 1 time(s) ... answers /health now", minutes
// after `restart data-service --wait`, once data-service's busy log had pushed its "listening" line
// out of the tail). Killed without a word (SIGKILL) and restarted by PM2, or stopped and not started
// again, the same failures stay a finding.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answersHealth,
  diagnoseInProcess,
  type FixtureStack,
  get,
  pm2LogText,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

let stack: FixtureStack;

const healthy = (name: string) => answersHealth(stack, name);

/** The poller's logged failures to reach inventory so far. */
const pollFailures = () => {
  try {
    return readFileSync(join(stack.root, 'services/poller/logs/poller.error.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('cannot sync stock: inventory unreachable')).length;
  } catch {
    return 0;
  }
};

const TAIL_OUT_LINES = 600;

/**
 * Requests to inventory, each logged as two lines: a busy service, whose "listening" line leaves
 * the log tail diagnose reads (what made trial 9's warning).
 */
async function busy(lines: number): Promise<void> {
  const requests = Math.ceil(lines / 2);
  for (let sent = 0; sent < requests; sent += 10) {
    await Promise.all(Array.from({ length: 10 }, () => get(stack.url('inventory', '/items/1'))));
  }
}

beforeAll(async () => {
  stack = await startFixtureStack([
    { name: 'inventory', folder: 'catalog' },
    {
      name: 'poller',
      folder: 'poller',
      dependsOn: ['inventory'],
      env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:inventory}}' },
    },
  ]);
  for (const name of ['inventory', 'poller']) await waitUntil(`${name} healthy`, () => healthy(name));
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
});

describe("a caller's failures while its dependency restarts", () => {
  it('restarted with devctl: no finding; the checked line says the errors met the restart', async () => {
    const before = pollFailures();
    const restart = await stack.devctl('restart', 'inventory', '--wait', '--no-build');
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    await waitUntil('the poller to log failures during the restart', () => pollFailures() > before);
    await busy(TAIL_OUT_LINES + 100);

    const report = await diagnoseInProcess(stack);
    expect(report.findings).toEqual([]);
    const checked = report.checked.find((line) => line.startsWith('poller: '));
    // The poller's first calls, before inventory listened at the stack's start, met that start.
    expect(checked).toMatch(
      /logs since [\d:]+ \(\d+ errors? while inventory (started at [\d:]{8} and )?restarted at [\d:]{8}, none a current finding\)/,
    );
    // Every failure the poller logged since its start, and only those.
    expect(Number(/\((\d+) error/.exec(checked ?? '')?.[1])).toBe(pollFailures());
  }, 120_000);

  it('killed with nothing logged (SIGKILL, as the OOM killer does) and restarted by PM2: the failures are a finding', async () => {
    const before = await pm2StatusRpc(stack, 'inventory');
    if (!before?.pid) throw new Error(`inventory is not running in PM2: ${JSON.stringify(before)}`);
    const failures = pollFailures();
    process.kill(before.pid, 'SIGKILL');
    await waitUntil('PM2 to restart inventory', async () => {
      const now = await pm2StatusRpc(stack, 'inventory');
      return now?.status === 'online' && now.pid !== before.pid;
    });
    await waitUntil('inventory healthy again', () => healthy('inventory'));
    await waitUntil('the poller to log failures during the crash', () => pollFailures() > failures);
    // The kill is PM2's to tell: an exit no stop was asked for.
    expect(pm2LogText(stack)).toMatch(
      /App \[inventory:\d+\] exited with code \[\w+\] via signal \[SIGKILL\]/,
    );

    const report = await diagnoseInProcess(stack);
    // inventory logged nothing: the poller's failures are the only evidence of its crash.
    const finding = report.findings.find((f) => f.service === 'poller' || f.affects?.includes('poller'));
    expect(finding, JSON.stringify(report.findings, null, 2)).toMatchObject({
      kind: 'dependency-unreachable',
      summary: expect.stringMatching(
        /poller failed to reach inventory \d+ time\(s\), .* while inventory exited at [\d:]{8} \(signal SIGKILL\) and PM2 restarted it/,
      ),
    });
    expect(JSON.stringify(finding?.evidence)).toContain('cannot sync stock: inventory unreachable');
    expect(report.checked.find((line) => line.startsWith('poller: '))).not.toContain('after a crash');
  }, 120_000);

  it('stopped and not started again: the same failures are a finding', async () => {
    const stop = await stack.devctl('stop', 'inventory');
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    const before = pollFailures();
    await waitUntil(
      'the poller to log failures while inventory is stopped',
      () => pollFailures() > before + 2,
    );

    const report = await diagnoseInProcess(stack);
    const [first] = report.findings;
    expect(first).toMatchObject({ service: 'inventory', kind: 'stopped', severity: 'error' });
    expect(first?.affects).toEqual(['poller']);
    expect(report.checked.find((line) => line.startsWith('poller: '))).not.toContain('while inventory');
  }, 120_000);
});
