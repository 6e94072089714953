// A service that ends itself with process.exit(3) at start and writes nothing: PM2 shows a crash
// loop with "exit code 3". The kit logs the caller of process.exit, and diagnose names that file and
// line as where to fix it. Real fixture services (built with the kit) under a real PM2 daemon, and
// the real devctl bin.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnoseReport, Finding } from '../src/diagnose/types';
import { type FixtureStack, pm2StatusRpc, startFixtureStack, waitUntil } from './fixtures/harness';

let stack: FixtureStack;
let report: DiagnoseReport;
let human: string;

const SHUTDOWN = 'services/orders/src/faults/shutdown.ts';

beforeAll(async () => {
  stack = await startFixtureStack([
    {
      name: 'orders-silent',
      folder: 'orders',
      env: { FAULT: 'silent-exit' },
      maxRestarts: 2,
      minUptime: 60_000,
    },
    // The same fault with a message on stderr before the exit: the message stays the "last error".
    { name: 'orders-loop', folder: 'orders', env: { FAULT: 'exit3' }, maxRestarts: 2, minUptime: 60_000 },
    { name: 'catalog', folder: 'catalog' },
  ]);
  for (const name of ['orders-silent', 'orders-loop']) {
    await waitUntil(
      `${name} to be given up by PM2`,
      async () => (await pm2StatusRpc(stack, name))?.gaveUp === true,
      90_000,
    );
  }
  const json = await stack.devctl('diagnose', '--json');
  report = JSON.parse(json.stdout) as DiagnoseReport;
  human = (await stack.devctl('diagnose', 'orders-silent')).stdout;
}, 240_000);

afterAll(async () => {
  await stack?.cleanup();
});

const findingOf = (service: string): Finding => {
  const finding = report.findings.find((f) => f.service === service);
  if (!finding) throw new Error(`no finding for ${service}: ${JSON.stringify(report.findings, null, 2)}`);
  return finding;
};

describe('a silent process.exit(3) at start', () => {
  it('is a crash-loop finding with the file and line of the process.exit call', () => {
    const finding = findingOf('orders-silent');
    expect(finding.kind).toBe('crash-loop');
    expect(finding.severity).toBe('error');
    expect(finding.location).toEqual({ file: SHUTDOWN, line: 4, column: 13 });
    expect(finding.summary).toMatch(
      new RegExp(
        `^orders-silent is crash-looping: \\d+ crashes since \\S+, exit code 3; PM2 gave up \\(errored\\); it calls process\\.exit\\(3\\) at ${SHUTDOWN}:4:13$`,
      ),
    );
    expect(finding.next).toBe(
      `fix ${SHUTDOWN}:4:13 (process.exit(3) ends the process there; the last run: pnpm devctl logs orders-silent --err --lines 50), then pnpm devctl restart orders-silent --wait`,
    );
    // The evidence shows the call and who made it: the service's start-up, in its TypeScript.
    const call = finding.evidence.find((e) => e.text.startsWith('FATAL process.exit(3) called at'));
    expect(call?.text).toContain(`at abandonWhenLicenceMissing (${SHUTDOWN}:4:13)`);
    expect(call?.text).toMatch(/services\/orders\/src\/index\.ts:\d+:\d+/);
  });

  it('prints the location and the fix for a person', () => {
    expect(human).toContain(`${SHUTDOWN}:4:13`);
    expect(human).toContain(`fix ${SHUTDOWN}:4:13`);
  });

  it("error.log holds one line per run, the kit's, and nothing else", () => {
    const errorLog = readFileSync(join(stack.root, 'services/orders/logs/orders-silent.error.log'), 'utf8');
    const lines = errorLog.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const record = JSON.parse(line.replace(/^\S+: /, '')) as {
        level: number;
        exit: { code: number; at: string };
      };
      expect(record).toMatchObject({ level: 60, exit: { code: 3, at: `${SHUTDOWN}:4:13` } });
    }
  });

  it('a message written before the exit stays the last error, and the exit gives the location', () => {
    const finding = findingOf('orders-loop');
    expect(finding.kind).toBe('crash-loop');
    expect(finding.summary).toContain(
      'last error: worker pool: cannot open queue file /nonexistent/orders/queue.db',
    );
    expect(finding.location?.file).toBe('services/orders/src/index.ts');
    expect(finding.next).toMatch(/^fix services\/orders\/src\/index\.ts:\d+:\d+ \(process\.exit\(3\)/);
  });

  it('a healthy service beside them has no finding', () => {
    expect(report.findings.filter((f) => f.service === 'catalog')).toEqual([]);
  });
});
