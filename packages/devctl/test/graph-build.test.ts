// The graph's pure rules as tables: edges and dependants from depends_on, what is known of each
// service's last start (recorded, never healthy, an earlier process, unknown), the critical chain
// (a chain, a diamond, a dependency already running, a failed service, two runs) and cycles, which
// the ecosystem loader reads and only `start` refuses.
import { describe, expect, it } from 'vitest';
import {
  buildGraph,
  criticalChain,
  dependencyCycles,
  type GraphEntry,
  type GraphState,
} from '../src/graph/build';
import { renderGraphMermaid, renderGraphText } from '../src/graph/render';
import type { StartTimings } from '../src/graph/timings';

const service = (name: string, dependsOn: string[] = []): GraphEntry => ({
  name,
  kind: 'service',
  dependsOn,
});

const RUN = '2026-12-06T10:00:00.000Z';
const EARLIER_RUN = '2026-12-06T09:00:00.000Z';
/** A timing of `run`: launched and healthy at t0 + the given milliseconds. */
const at = (launch: number, healthy: number | null, pid: number | null = 100, run = RUN) => {
  const t0 = Date.parse(run) + 5000;
  return {
    launchedAt: new Date(t0 + launch).toISOString(),
    healthyAt: healthy === null ? null : new Date(t0 + healthy).toISOString(),
    launchToHealthyMs: healthy === null ? null : healthy - launch,
    pid,
    run,
  };
};

const online = (name: string, pid: number): GraphState => ({
  name,
  status: 'online',
  pid,
  health: { ok: true },
});

describe('criticalChain', () => {
  const chain = [service('db'), service('auth', ['db']), service('gateway', ['auth'])];
  const diamond = [
    service('db'),
    service('auth', ['db']),
    service('forms', ['db']),
    service('gateway', ['auth', 'forms']),
  ];

  const cases: {
    name: string;
    entries: GraphEntry[];
    timings: StartTimings;
    links: [string, number, number | null][] | null;
    totalMs?: number;
    notHealthy?: string[];
  }[] = [
    {
      name: 'a chain: every service is a link, waits are the gaps between healthy and the next launch',
      entries: chain,
      timings: { db: at(0, 800), auth: at(810, 1400), gateway: at(1420, 1900) },
      links: [
        ['db', 800, null],
        ['auth', 590, 10],
        ['gateway', 480, 20],
      ],
      totalMs: 1900,
    },
    {
      name: 'a diamond: the branch that became healthy last is the one the gateway waited for',
      entries: diamond,
      timings: {
        db: at(0, 500),
        auth: at(510, 900),
        forms: at(510, 1700),
        gateway: at(1710, 2000),
      },
      links: [
        ['db', 500, null],
        ['forms', 1190, 10],
        ['gateway', 290, 10],
      ],
      totalMs: 2000,
    },
    {
      name: 'the chain ends at the service healthy last, even one nothing depends on',
      entries: [...diamond, service('scheduler', ['db'])],
      timings: {
        db: at(0, 500),
        auth: at(510, 900),
        forms: at(510, 1000),
        gateway: at(1010, 1300),
        scheduler: at(510, 4000),
      },
      links: [
        ['db', 500, null],
        ['scheduler', 3490, 10],
      ],
      totalMs: 4000,
    },
    {
      name: 'a dependency already running (not launched by this run) is not a link',
      entries: chain,
      timings: { db: at(0, 800, 100, EARLIER_RUN), auth: at(0, 600), gateway: at(620, 900) },
      links: [
        ['auth', 600, null],
        ['gateway', 280, 20],
      ],
      totalMs: 900,
    },
    {
      name: 'a service that never became healthy is named, and the chain ends before it',
      entries: chain,
      timings: { db: at(0, 700), auth: at(710, null) },
      links: [['db', 700, null]],
      totalMs: 700,
      notHealthy: ['auth'],
    },
    {
      name: 'a dependency healthy only after the launch did not hold it back',
      entries: chain,
      timings: { db: at(0, 2000), auth: at(100, 500), gateway: at(510, 800) },
      links: [['db', 2000, null]],
      totalMs: 2000,
    },
    { name: 'no timings: no chain (never invented)', entries: chain, timings: {}, links: null },
    {
      name: 'a run where nothing became healthy: no chain',
      entries: chain,
      timings: { db: at(0, null) },
      links: null,
    },
    {
      name: 'a cycle does not loop: links must become healthy before the next launch',
      entries: [service('a', ['b']), service('b', ['a'])],
      timings: { a: at(0, 0), b: at(0, 0) },
      // Ties go to the first name: the chain ends at a, which waited for b; b's wait for a stops.
      links: [
        ['b', 0, null],
        ['a', 0, 0],
      ],
      totalMs: 0,
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, () => {
      const result = criticalChain(testCase.entries, testCase.timings);
      if (testCase.links === null) {
        expect(result).toBeNull();
        return;
      }
      expect(result?.links.map((l) => [l.name, l.launchToHealthyMs, l.waitedMs])).toEqual(testCase.links);
      expect(result?.totalMs).toBe(testCase.totalMs);
      expect(result?.run).toBe(RUN);
      expect(result?.notHealthy).toEqual(testCase.notHealthy ?? []);
    });
  }
});

describe('dependencyCycles', () => {
  const cases: { name: string; entries: GraphEntry[]; cycles: string[][] }[] = [
    {
      name: 'none in a diamond',
      entries: [service('a'), service('b', ['a']), service('c', ['a']), service('d', ['b', 'c'])],
      cycles: [],
    },
    {
      name: 'two services',
      entries: [service('a', ['b']), service('b', ['a']), service('c', ['a'])],
      cycles: [['a', 'b']],
    },
    {
      name: 'a service that waits for itself',
      entries: [service('a', ['a']), service('b')],
      cycles: [['a']],
    },
    {
      name: 'three services in a ring, and a separate pair',
      entries: [
        service('a', ['c']),
        service('b', ['a']),
        service('c', ['b']),
        service('x', ['y']),
        service('y', ['x']),
      ],
      cycles: [
        ['a', 'c', 'b'],
        ['x', 'y'],
      ],
    },
    {
      name: 'a dependency missing from the ecosystem is no cycle',
      entries: [service('a', ['ghost'])],
      cycles: [],
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      const found = dependencyCycles(testCase.entries).map((group) => [...group].sort());
      expect(found.sort()).toEqual(testCase.cycles.map((group) => [...group].sort()).sort());
    });
  }
});

describe('buildGraph: what is known of each service', () => {
  const entries = [
    service('db'),
    service('auth', ['db']),
    service('forms', ['db', 'ghost']),
    service('gateway', ['auth', 'forms']),
    { name: 'rotator', kind: 'tool' as const, dependsOn: [] },
  ];
  const timings: StartTimings = {
    db: at(0, 500, 11),
    auth: at(510, 900, 12),
    forms: at(510, null, 13),
  };
  const states: GraphState[] = [
    online('db', 11),
    online('auth', 99),
    { name: 'forms', status: 'crash-loop', pid: null, health: null },
    online('gateway', 14),
  ];
  const graph = buildGraph(entries, states, timings);
  const node = (name: string) => graph.nodes.find((n) => n.name === name);

  it('edges and dependants come from depends_on; an unknown name is kept apart', () => {
    expect(node('gateway')?.dependsOn).toEqual(['auth', 'forms']);
    expect(node('db')?.dependants).toEqual(['auth', 'forms']);
    expect(node('forms')?.dependsOn).toEqual(['db']);
    expect(node('forms')?.missingDependencies).toEqual(['ghost']);
    expect(node('rotator')).toMatchObject({ kind: 'tool', state: 'not started', pid: null });
  });

  it.each([
    ['db', 'recorded', 500],
    ['auth', 'earlier-process', 390],
    ['forms', 'never-healthy', null],
    ['gateway', 'unknown', undefined],
  ] as const)('%s: timing %s', (name, timing, ms) => {
    expect(node(name)?.timing).toBe(timing);
    if (ms === undefined) expect(node(name)?.startup).toBeNull();
    else expect(node(name)?.startup?.launchToHealthyMs).toBe(ms);
  });

  it('marks the critical chain, and states come from status', () => {
    expect(graph.nodes.filter((n) => n.critical).map((n) => n.name)).toEqual(['db', 'auth']);
    expect(node('forms')?.state).toBe('crash-loop');
    expect(node('gateway')).toMatchObject({ state: 'online', pid: 14, healthy: true });
    expect(graph.criticalChain?.notHealthy).toEqual(['forms']);
  });

  it('renders a tree and a mermaid chart that say unknown timings and never guess', () => {
    const text = renderGraphText(graph, 'devstack');
    expect(text).toMatch(/^db +online pid 11 +500ms launch to healthy ◆ critical$/m);
    expect(text).toMatch(
      /│ {2}└─ gateway +online pid 14 +start-up time unknown \(never started with --wait\)$/m,
    );
    expect(text).toMatch(/^ {3}└─ gateway +\(see above\)$/m);
    expect(text).toContain('depends on ghost, not in ecosystem.config.js');
    expect(text).toContain('db 500ms → +10ms → auth 390ms');
    expect(text).toContain('never healthy in that start: forms');
    const mermaid = renderGraphMermaid(graph);
    expect(mermaid.split('\n')[0]).toBe('flowchart LR');
    expect(mermaid).toContain('s0["db<br/>online · 500ms"]');
    expect(mermaid).toContain('s3["gateway<br/>online · start-up time unknown"]');
    expect(mermaid).toContain('s0 --> s1');
    expect(mermaid).toMatch(/linkStyle 0 /);
  });

  it('draws a cycle once, says so, and has no chain without timings', () => {
    const cyclic = buildGraph([service('a', ['b']), service('b', ['a'])], [], {});
    const text = renderGraphText(cyclic, 'devstack');
    expect(text).toContain('cycle: a → b → a');
    expect(text).toMatch(/└─ a +\(cycle\)$/m);
    expect(text).toContain('critical chain: unknown');
  });
});
