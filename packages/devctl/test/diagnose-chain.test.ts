// A failure deep in a chain of calls, live: real fixture services (edge -> mid -> leaf, one folder,
// the kit's client between them) under a real PM2 daemon, a request through the chain, then the real
// devctl bin. The first finding must be the leaf, the service that failed on its own, with the line
// that holds the fix; the links that relayed its failure fold into it. With RECORD_DIAGNOSE=1 each
// scenario's logs are written to fixtures/diagnose/recorded/ for the table tests (then run
// pnpm exec biome check --write on that folder: lint formats the JSON).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../src/diagnose/render';
import type { DiagnoseReport } from '../src/diagnose/types';
import {
  answersHealth,
  type FixtureStack,
  type KitApp,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

const lineOf = (stack: FixtureStack, file: string, text: string) =>
  readFileSync(join(stack.root, file), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text)) + 1;

const logOf = (stack: FixtureStack, app: string, stream: 'out' | 'error') => {
  try {
    return readFileSync(join(stack.root, 'services', 'chain', 'logs', `${app}.${stream}.log`), 'utf8');
  } catch {
    return '';
  }
};

/** Writes what the real services logged, for the table tests (paths under the fixture root as <ROOT>). */
function record(stack: FixtureStack, name: string, how: string, apps: KitApp[], text: string): void {
  if (!process.env.RECORD_DIAGNOSE) return;
  const lines = (text: string) =>
    text
      .split(stack.root)
      .join('<ROOT>')
      .split('\n')
      .filter((line) => line.trim() !== '');
  const recording = {
    name,
    how,
    now: Date.now(),
    root: 'fixture',
    services: Object.fromEntries(
      apps.map((app) => [
        app.name,
        {
          folder: `services/${app.folder}`,
          port: stack.ports[app.name],
          dependsOn: app.dependsOn ?? [],
          state: 'online',
          out: lines(logOf(stack, app.name, 'out')),
          err: lines(logOf(stack, app.name, 'error')),
          health: { status: 200, body: { status: 'ok' } },
          ready: { status: 200, body: { status: 'ready', checks: {} } },
        },
      ]),
    ),
  };
  const file = new URL(`./fixtures/diagnose/recorded/${name}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(recording, null, 1)}\n`);
  // What a person saw, for docs/diagnose.md.
  writeFileSync(
    new URL(`./fixtures/diagnose/recorded/${name}.txt`, import.meta.url),
    `$ pnpm devctl diagnose\n${text}`,
  );
}

const link = (name: string, next: string, extra: Record<string, string> = {}): KitApp => ({
  name,
  folder: 'chain',
  dependsOn: [next],
  env: { NEXT_SERVICE_URL: `http://127.0.0.1:{{port:${next}}}`, NEXT_NAME: next, ...extra },
});
const leaf = (name: string, fault: string): KitApp => ({ name, folder: 'chain', env: { FAULT: fault } });

interface Scenario {
  name: string;
  how: string;
  apps: KitApp[];
  entry: string;
  /** Waits until the leaf logged what the scenario needs (a slow request completes later). */
  settle?: (stack: FixtureStack) => Promise<void>;
}

async function runScenario(
  scenario: Scenario,
): Promise<{ stack: FixtureStack; report: DiagnoseReport; text: string; status: number }> {
  const stack = await startFixtureStack(scenario.apps, { namespace: `chain-${scenario.name}` });
  try {
    for (const app of scenario.apps)
      await waitUntil(`${app.name} healthy`, () => answersHealth(stack, app.name), 60_000);
    const answer = await fetch(stack.url(scenario.entry, '/quotes/7'), {
      signal: AbortSignal.timeout(15_000),
    });
    if (scenario.settle) await scenario.settle(stack);
    else {
      // PM2 writes a service's output to its log files on its own time: the answer can reach the test
      // before the callers' relay lines reach their error logs (CI: a diagnose that saw the leaf's
      // error but neither relay). Every hop logged this request id (its error, or the request coming
      // in) before the answer came back.
      const id = answer.headers.get('x-request-id') ?? '';
      const logged = (app: KitApp, stream: 'out' | 'error') => {
        const log = join(stack.root, 'services', app.folder, 'logs', `${app.name}.${stream}.log`);
        return existsSync(log) && readFileSync(log, 'utf8').includes(id);
      };
      for (const app of scenario.apps) {
        const stream = scenario.name.startsWith('chain-500') && app.name !== 'leaf' ? 'error' : 'out';
        await waitUntil(`${app.name}'s ${stream} log to hold request ${id}`, () =>
          Promise.resolve(id !== '' && logged(app, stream)),
        );
      }
    }
    const json = await stack.devctl('diagnose', '--json');
    const report = JSON.parse(json.stdout) as DiagnoseReport;
    // The text is diagnose's renderer on the same report, as the bin prints it; a second run of the
    // bin only when recording what a person saw, for docs/diagnose.md.
    const text = process.env.RECORD_DIAGNOSE ? (await stack.devctl('diagnose')).stdout : renderReport(report);
    // Recorded as diagnose saw it (its `now` decides how long an open request has been running).
    record(stack, scenario.name, scenario.how, scenario.apps, text);
    return { stack, report, text, status: answer.status };
  } catch (error) {
    await stack.cleanup();
    throw error;
  }
}

// Depth 1 (mid -> leaf) runs the same live path as depth 2 with one hop less: its real recording is
// a row of the table tests (diagnose-attribution), and it runs live only to record it again.
const depth1 = {
  name: 'chain-500-depth-1',
  how: 'fixture chain mid -> leaf (FAULT=throw); GET /quotes/7 on mid',
  apps: [leaf('leaf', 'throw'), link('mid', 'leaf')],
  entry: 'mid',
  callers: ['mid'],
};

describe.each([
  ...(process.env.RECORD_DIAGNOSE ? [depth1] : []),
  {
    name: 'chain-500-depth-2',
    how: 'fixture chain edge -> mid -> leaf (FAULT=throw); GET /quotes/7 on edge',
    apps: [leaf('leaf', 'throw'), link('mid', 'leaf'), link('edge', 'mid')],
    entry: 'edge',
    callers: ['edge', 'mid'],
  },
])('a TypeError in the leaf, $callers.length relay(s) up', (scenario) => {
  let stack: FixtureStack;
  let report: DiagnoseReport;
  let text: string;
  let status: number;

  beforeAll(async () => {
    ({ stack, report, text, status } = await runScenario(scenario));
  }, 180_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('the first finding is the leaf, at the caller of the shared lookup helper, with its callers folded in', () => {
    expect(status).toBe(502);
    const first = report.findings[0];
    const line = lineOf(stack, 'services/chain/src/pricing.ts', 'lookup(rates.byRegion');
    expect(first).toMatchObject({
      kind: 'request-error',
      service: 'leaf',
      severity: 'error',
      location: { file: 'services/chain/src/pricing.ts', line },
      affects: scenario.callers,
    });
    expect(first?.summary).toContain(`${scenario.callers.join(', ')} fail`);
    expect(first?.next).toMatch(new RegExp(`^fix services/chain/src/pricing.ts:${line}:`));
    expect(first?.requestId).toMatch(/^[\w-]{8,}$/);
    expect(first?.evidence.some((e) => e.text.includes(`pnpm devctl trace ${first?.requestId}`))).toBe(true);
  });

  it('no caller has a finding of its own, and nothing tells anyone to edit a relay', () => {
    for (const caller of scenario.callers)
      expect(report.findings.filter((f) => f.service === caller)).toEqual([]);
    expect(report.findings.filter((f) => /fix services\/chain\/src\/routes\//.test(f.next))).toEqual([]);
    expect(text).toMatch(/^✖ error {2}leaf {2}request-error$/m);
  });
});

// The slow handler runs live only to record it again: its recording is a row of the table tests
// (diagnose-recorded-faults: the headline, no finding on the callers; diagnose-attribution: kind,
// location, callers, next). The hung handler below keeps a slow request live, with a real caller
// timing out (504).
describe.runIf(process.env.RECORD_DIAGNOSE)(
  'a slow handler: the leaf takes longer than its caller waits',
  () => {
    let stack: FixtureStack;
    let report: DiagnoseReport;
    let status: number;

    beforeAll(async () => {
      ({ stack, report, status } = await runScenario({
        name: 'chain-slow-handler',
        how: 'fixture chain edge -> mid (waits 1000 ms) -> leaf (FAULT=slow, 5200 ms); GET /quotes/7 on edge, then on leaf directly (waiting it out)',
        apps: [
          { ...leaf('leaf', 'slow'), env: { FAULT: 'slow', SLOW_MS: '5200' } },
          link('mid', 'leaf', { CALL_TIMEOUT_MS: '1000' }),
          link('edge', 'mid'),
        ],
        entry: 'edge',
        // The leaf logs no "request completed" for the answer mid no longer waits for; a caller that
        // waits it out gets one, with Fastify's responseTime.
        settle: async (s) => {
          expect(
            (await fetch(s.url('leaf', '/quotes/7'), { signal: AbortSignal.timeout(30_000) })).status,
          ).toBe(200);
          await waitUntil(
            'the leaf to log the completed request',
            () => /"responseTime":5\d{3}/.test(logOf(s, 'leaf', 'out')),
            10_000,
          );
        },
      }));
    }, 180_000);
    afterAll(async () => {
      await stack?.cleanup();
    });

    it('is an error on the slow service naming the route, its handler and the callers', () => {
      expect(status).toBe(504);
      const first = report.findings[0];
      const line = lineOf(stack, 'services/chain/src/routes/quotes.ts', 'app.get<');
      expect(first).toMatchObject({
        kind: 'slow-request',
        service: 'leaf',
        severity: 'error',
        location: { file: 'services/chain/src/routes/quotes.ts', line },
        affects: ['edge', 'mid'],
      });
      expect(first?.summary).toMatch(
        /^leaf took \d+\.\d s to answer GET \/quotes\/7; its caller gives up after 1000 ms \(2 requests since /,
      );
      expect(first?.next).toContain('GET /quotes/:id');
      expect(first?.next).not.toMatch(/^pnpm devctl restart/);
      expect(report.findings.filter((f) => f.service === 'mid' || f.service === 'edge')).toEqual([]);
    });
  },
);

describe('a hung handler: the request came in and never completed', () => {
  let stack: FixtureStack;
  let report: DiagnoseReport;
  let status: number;

  beforeAll(async () => {
    ({ stack, report, status } = await runScenario({
      name: 'chain-hung-handler',
      how: 'fixture chain mid (waits 1000 ms) -> leaf (FAULT=hang); GET /quotes/7 on mid',
      apps: [leaf('leaf', 'hang'), link('mid', 'leaf', { CALL_TIMEOUT_MS: '1000' })],
      entry: 'mid',
    }));
  }, 180_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('names the hung route on the leaf, with the caller folded in', () => {
    expect(status).toBe(504);
    const first = report.findings[0];
    expect(first).toMatchObject({
      kind: 'slow-request',
      service: 'leaf',
      severity: 'error',
      affects: ['mid'],
    });
    expect(first?.summary).toMatch(
      /^leaf did not answer GET \/quotes\/7 within the 1000 ms its caller waits: no "request completed" since it came in at /,
    );
    expect(first?.location?.file).toBe('services/chain/src/routes/quotes.ts');
  });
});
