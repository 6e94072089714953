// Faults no log line names, on real processes under a real PM2 daemon: an event loop stuck in a
// busy loop (CPU and the TypeScript line it is stuck on, read through the inspector, which is
// closed again), one that waits forever (idle CPU), and a leak (its rate and when it reaches
// max_memory_restart). The real bin diagnoses the stuck stack; the leak's two looks (what diagnose
// finds, not what the CLI prints) run diagnose in this process, and PM2 is read through its RPC
// socket: a `pm2 jlist` per poll while the busy loop held a core cost more CPU than the test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_GROWTH } from '../src/diagnose/detectors/memory';
import { renderReport } from '../src/diagnose/render';
import type { DiagnoseReport, Finding } from '../src/diagnose/types';
import { cpuTimes, listeningPorts, residentBytes } from '../src/ports/processes';
import {
  diagnoseInProcess,
  type FixtureStack,
  type KitApp,
  pm2Rpc,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

const apps: KitApp[] = [
  { name: 'catalog', folder: 'catalog' },
  // --inspect-port=0: its inspector opens on a free port, never on 9229, which another stack may hold.
  // Started late (see beforeAll): its loop takes a full core for as long as it runs.
  {
    name: 'orders-spin',
    folder: 'orders',
    env: { FAULT: 'busy-loop', NODE_OPTIONS: '--inspect-port=0' },
    notStarted: true,
  },
  { name: 'orders-idle', folder: 'orders', env: { FAULT: 'hang-health' } },
  { name: 'orders-leak', folder: 'orders', env: { FAULT: 'leak' }, maxMemoryRestart: '4G' },
];

let stack: FixtureStack;
let report: DiagnoseReport;
let human: string;
let spinPid: number;

const findingOf = (service: string, kind: string): Finding => {
  const found = report.findings.find((f) => f.service === service && f.kind === kind);
  if (!found)
    throw new Error(`no ${kind} finding for ${service}: ${JSON.stringify(report, null, 1).slice(0, 3000)}`);
  return found;
};

/** 1-based lines of `file` (under the fixture root) holding each text. */
const lineOf = (file: string, text: string) =>
  readFileSync(join(stack.root, file), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text)) + 1;

const answers = async (name: string) => {
  try {
    const response = await fetch(stack.url(name, '/health'), { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
};

/** The leak's age when diagnose looks: memory is only judged past the settling age (30 s). */
const LEAK_AGE_MS = 31_000;

let beforeSpin: DiagnoseReport;

beforeAll(async () => {
  stack = await startFixtureStack(apps);
  await waitUntil('catalog healthy', () => answers('catalog'));
  // The leak must run past its settling age before diagnose judges its growth. Its start time is read
  // from PM2 once and the wait polls the clock: a `pm2 jlist` per poll for half a minute cost more
  // CPU than the services themselves.
  let leakStartedAt = 0;
  let leakPid = 0;
  await waitUntil('orders-leak online', async () => {
    const status = await pm2StatusRpc(stack, 'orders-leak');
    if (status?.status !== 'online') return false;
    leakStartedAt = Date.now() - status.uptimeMs;
    leakPid = status.pid;
    return true;
  });
  // Memory is only judged on processes past their start-up: PM2's own uptime of the leak says so
  // (and that it was not restarted meanwhile).
  await waitUntil(
    `orders-leak to run ${LEAK_AGE_MS / 1000} s (past the settling age, when growth alone is an error)`,
    async () =>
      Date.now() - leakStartedAt >= LEAK_AGE_MS &&
      ((await pm2StatusRpc(stack, 'orders-leak'))?.uptimeMs ?? 0) >= LEAK_AGE_MS,
    90_000,
  );
  // The leak is judged before the busy loop runs, so it grows at its pace (a process starved by a
  // loop on this 2-core machine grows by fits and starts). A first diagnose's look, then the one the
  // test reads: growth seen in one run is an error only when an earlier run's look confirms it, lower
  // by MIN_GROWTH -- so the second runs once the process has grown that much since the first.
  await diagnoseOf('orders-leak');
  const afterFirst = residentBytes(leakPid);
  await waitUntil(
    'orders-leak to grow past the first look',
    () => residentBytes(leakPid) - afterFirst >= 2 * MIN_GROWTH,
    30_000,
  );
  // The handler that never answers is judged in the same look, before the busy loop takes a core:
  // beside it, on a loaded machine, the idle process waited in the run queue at 0% CPU and read as
  // a loop stuck in JavaScript.
  beforeSpin = await diagnoseOf('orders-leak', 'orders-idle');
  // Judged: stopped, so it neither grows nor takes CPU while the busy loop is looked at.
  await pm2Rpc(stack, 'stop', 'orders-leak');
  // The busy loop takes a full core of this 2-core machine for as long as it runs: started only now,
  // so it spins for the checks that need it, not through the leak's wait.
  await stack.pm2('start', 'ecosystem.config.js', '--only', 'orders-spin');
  // Started, then stuck: it answered once it listened, and the rebuild blocks it 0.5 s later.
  await waitUntil(
    'orders-spin online and stuck at a full core',
    async () => {
      const status = await pm2StatusRpc(stack, 'orders-spin');
      if (status?.status !== 'online' || status.uptimeMs < 2000) return false;
      spinPid = status.pid;
      // Stuck: no answer within a second, its main thread runnable (busy, or waiting for a core).
      return !(await answers('orders-spin')) && cpuTimes(spinPid)?.state === 'R';
    },
    60_000,
  );
  // The stack is read through the inspector within diagnose's budget (4 s); on a machine so loaded
  // that the stuck process gets a fifth of a core, the inspector may not answer in time, and
  // diagnose says so ("stack not read: ... no answer within"). Only that is looked at again (at most
  // three looks); any other outcome is the answer.
  for (let look = 1; ; look++) {
    const json = await stack.devctl('diagnose', '--json');
    report = JSON.parse(json.stdout) as DiagnoseReport;
    const spin = report.findings.find((f) => f.service === 'orders-spin');
    const outOfTime = spin?.evidence.some((e) => /stack not read: .*no answer within/.test(e.text));
    if (look === 3 || spin?.location || !outOfTime) break;
  }
  // The text of the same look (diagnose's renderer, as the bin prints it): a second diagnose would
  // pause the loop again and keep a core busy for its whole run.
  human = renderReport(report);
}, 180_000);

/** diagnose of one service, as a report. */
function diagnoseOf(...names: string[]): Promise<DiagnoseReport> {
  return diagnoseInProcess(stack, { names });
}

afterAll(async () => {
  await stack?.cleanup();
});

describe('a busy loop', () => {
  it('names the CPU and the TypeScript line the loop is stuck on, not a restart alone', () => {
    const finding = findingOf('orders-spin', 'unhealthy');
    expect(finding.severity).toBe('error');
    expect(finding.summary).toMatch(
      /event loop is stuck: GET \/health no answer within \d+ ms.*main thread at \d+% of a core/,
    );
    const file = 'services/orders/src/faults/reindex.ts';
    expect(finding.location?.file).toBe(file);
    // Paused somewhere in the loop: the while of rebuildPriceIndex or the page total it calls.
    const first = lineOf(file, 'function pageTotal');
    const last = lineOf(file, '/** Starts the rebuild');
    expect(finding.location?.line).toBeGreaterThanOrEqual(first);
    expect(finding.location?.line).toBeLessThan(last);
    expect(finding.next).toMatch(
      new RegExp(`^fix the loop at ${file}:\\d+:\\d+ .*restart alone runs into the same loop`),
    );
    const cpu = finding.evidence.find((e) => e.text.startsWith('CPU: '));
    expect(cpu?.text).toMatch(/main thread \d+% of a core .* runnable in \d+ of \d+ looks \(pid \d+/);
    const frames = finding.evidence.find((e) => e.text.includes('JavaScript stack'));
    expect(frames?.text).toContain('rebuildPriceIndex (services/orders/src/faults/reindex.ts:');
  });

  it('leaves no inspector open and the process as it was: still online, still busy', async () => {
    // Only the service's own port: the inspector diagnose opened is closed again.
    await waitUntil('the inspector port closed', () => listeningPorts(spinPid).length === 1, 5000);
    expect(listeningPorts(spinPid)).toEqual([stack.ports['orders-spin']]);
    const status = await pm2StatusRpc(stack, 'orders-spin');
    expect(status).toMatchObject({ status: 'online', pid: spinPid, restarts: 0 });
    // Resumed: the loop runs on (a paused process would use no CPU).
    const before = cpuTimes(spinPid)?.mainThread ?? 0;
    await waitUntil(
      'orders-spin to use CPU again',
      () => (cpuTimes(spinPid)?.mainThread ?? 0) - before >= 5,
      10_000,
    );
  });

  it('the text output shows where', () => {
    expect(human).toContain('event loop is stuck');
    expect(human).toMatch(/where: services\/orders\/src\/faults\/reindex\.ts:\d+:\d+/);
  });
});

describe('a handler that never answers', () => {
  it('says the loop is idle and where to look, without pausing it', () => {
    const finding = beforeSpin.findings.find((f) => f.service === 'orders-idle' && f.kind === 'unhealthy');
    if (!finding)
      throw new Error(`no unhealthy finding for orders-idle: ${JSON.stringify(beforeSpin, null, 1)}`);
    expect(finding.summary).toMatch(/its event loop is idle \(main thread \d+% of a core\)/);
    expect(finding.next).toContain('incoming request');
    expect(finding.next).toContain('a restart alone hangs again');
    expect(finding.evidence.some((e) => e.text.includes('JavaScript stack'))).toBe(false);
  });
});

describe('a leak', () => {
  it('is an error with its rate and when it reaches max_memory_restart', () => {
    const finding = beforeSpin.findings.find(
      (f) => f.service === 'orders-leak' && f.kind === 'memory-growth',
    );
    if (!finding) throw new Error(`no memory-growth finding: ${JSON.stringify(beforeSpin.checked)}`);
    expect(finding.severity).toBe('error');
    expect(finding.summary).toMatch(
      /resident memory grows steadily: \d+ MiB -> \d+ MiB in \d\.\d s \(\+\d+ MiB\/s\), reaches its max_memory_restart limit \(4096 MiB\) in about \d+ (s|min)/,
    );
  });

  it('healthy services have no finding', () => {
    expect(report.findings.filter((f) => f.service === 'catalog')).toEqual([]);
  });
});
