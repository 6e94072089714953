// `devctl graph` on a real stack (private PM2_HOME, free ports): before any start it knows the
// edges but no timing; `start --wait` records each launch-to-healthy it prints, for the very pids
// `status` reports; the critical chain follows depends_on in the order the start really ran; a
// process relaunched without --wait is not credited with the old figure; text and mermaid render;
// a bad --format is a usage error.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphReport } from '../src/graph/index';
import { createFixture, type Fixture, parseJson } from './fixtures/harness';

interface StartJson {
  ok: boolean;
  services: { name: string; pid: number | null; healthy: boolean | null; elapsedMs: number | null }[];
}
interface StatusJson {
  services: { name: string; status: string; pid: number | null }[];
}

let fixture: Fixture;
beforeAll(async () => {
  // A diamond: gateway waits for auth and forms, which both wait for db.
  fixture = await createFixture([
    { name: 'db' },
    { name: 'auth', dependsOn: ['db'] },
    { name: 'forms', dependsOn: ['db'] },
    { name: 'gateway', dependsOn: ['auth', 'forms'] },
  ]);
}, 30_000);
afterAll(async () => {
  await fixture?.cleanup();
}, 60_000);

const node = (graph: GraphReport, name: string) => {
  const found = graph.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`${name} is not in the graph: ${JSON.stringify(graph.nodes)}`);
  return found;
};

describe('devctl graph on a real stack', () => {
  it('before any start: the edges, every state not started, every timing unknown, no chain', async () => {
    const result = await fixture.devctl(['graph', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const graph = parseJson<GraphReport>(result);
    expect(graph.daemon.running).toBe(false);
    expect(node(graph, 'gateway').dependsOn).toEqual(['auth', 'forms']);
    expect(node(graph, 'db').dependants).toEqual(['auth', 'forms']);
    for (const n of graph.nodes)
      expect([n.name, n.state, n.timing, n.startup]).toEqual([n.name, 'not started', 'unknown', null]);
    expect(graph.criticalChain).toBeNull();
    const text = await fixture.devctl(['graph']);
    expect(text.stdout).toContain('critical chain: unknown, no start with --wait recorded');
    expect(text.stdout).toContain('PM2 daemon is not running');
  }, 30_000);

  it('after start --wait: the recorded timings are the printed ones, for the pids status reports', async () => {
    const started = await fixture.devctl(['start', '--wait', '--json']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const start = parseJson<StartJson>(started);
    expect(existsSync(join(fixture.root, 'node_modules', '.cache', 'devctl', 'startup.json'))).toBe(true);

    const graph = parseJson<GraphReport>(await fixture.devctl(['graph', '--json']));
    const status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    for (const name of ['db', 'auth', 'forms', 'gateway']) {
      const n = node(graph, name);
      const printed = start.services.find((s) => s.name === name);
      const running = status.services.find((s) => s.name === name);
      expect(running?.status).toBe('online');
      expect(running?.pid).toBeGreaterThan(0);
      expect(n).toMatchObject({ state: 'online', pid: running?.pid, timing: 'recorded', healthy: true });
      // The figure graph shows is the one start printed, for the process that runs now.
      expect(n.startup?.pid).toBe(running?.pid);
      expect(n.startup?.pid).toBe(printed?.pid);
      expect(n.startup?.launchToHealthyMs).toBe(printed?.elapsedMs);
      // The healthy time is taken once the wait is over: never before launch + the printed figure
      // (1 ms for the two roundings to the millisecond).
      expect(
        Date.parse(n.startup?.healthyAt as string) - Date.parse(n.startup?.launchedAt as string),
      ).toBeGreaterThanOrEqual((printed?.elapsedMs as number) - 1);
    }
    // Each service was launched only after every dependency was healthy (what the chain relies on).
    for (const n of graph.nodes) {
      for (const dep of n.dependsOn) {
        expect(Date.parse(node(graph, dep).startup?.healthyAt as string)).toBeLessThanOrEqual(
          Date.parse(n.startup?.launchedAt as string),
        );
      }
    }
    const chain = graph.criticalChain;
    expect(chain).not.toBeNull();
    const names = chain?.links.map((l) => l.name) ?? [];
    // db, then the branch gateway waited for last, then gateway (healthy last: nothing depends on it).
    expect(names[0]).toBe('db');
    expect(names[names.length - 1]).toBe('gateway');
    expect(names).toHaveLength(3);
    const branch = names[1] as 'auth' | 'forms';
    const other = branch === 'auth' ? 'forms' : 'auth';
    expect(Date.parse(node(graph, branch).startup?.healthyAt as string)).toBeGreaterThanOrEqual(
      Date.parse(node(graph, other).startup?.healthyAt as string),
    );
    expect(chain?.totalMs).toBe(
      Date.parse(node(graph, 'gateway').startup?.healthyAt as string) -
        Date.parse(node(graph, 'db').startup?.launchedAt as string),
    );
    expect(
      graph.nodes
        .filter((n) => n.critical)
        .map((n) => n.name)
        .sort(),
    ).toEqual([...names].sort());

    const text = await fixture.devctl(['graph']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^db +online pid \d+ +\S+ launch to healthy ◆ critical$/m);
    expect(text.stdout).toContain('critical chain of the start at');
    const mermaid = await fixture.devctl(['graph', '--format', 'mermaid']);
    expect(mermaid.code, mermaid.stderr).toBe(0);
    expect(mermaid.stdout.split('\n')[0]).toBe('flowchart LR');
    expect(mermaid.stdout).toContain('s0 --> s1');
  }, 120_000);

  it('a process relaunched without --wait is not credited with the earlier figure', async () => {
    const before = parseJson<GraphReport>(await fixture.devctl(['graph', '--json']));
    const restarted = await fixture.devctl(['restart', 'forms', '--no-build']);
    expect(restarted.code, restarted.stdout + restarted.stderr).toBe(0);
    const status = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    const pid = status.services.find((s) => s.name === 'forms')?.pid;
    expect(pid).not.toBe(node(before, 'forms').pid);
    const after = parseJson<GraphReport>(await fixture.devctl(['graph', '--json']));
    expect(node(after, 'forms')).toMatchObject({ pid, timing: 'earlier-process' });
    expect(node(after, 'forms').startup).toEqual(node(before, 'forms').startup);

    // restart --wait records the new launch, for the new pid.
    const waited = parseJson<StartJson>(
      await fixture.devctl(['restart', 'forms', '--no-build', '--wait', '--json']),
    );
    const latest = parseJson<GraphReport>(await fixture.devctl(['graph', '--json']));
    const forms = node(latest, 'forms');
    expect(forms.timing).toBe('recorded');
    expect(forms.startup?.pid).toBe(forms.pid);
    expect(forms.startup?.launchToHealthyMs).toBe(waited.services.find((s) => s.name === 'forms')?.elapsedMs);
    // The last run launched forms alone: the chain is that one service.
    expect(latest.criticalChain?.links.map((l) => l.name)).toEqual(['forms']);
  }, 120_000);

  it('a depends_on cycle, which the loader reads and start refuses, is drawn and named', async () => {
    fixture.writeEcosystem([
      { name: 'db', dependsOn: ['gateway'] },
      { name: 'auth', dependsOn: ['db'] },
      { name: 'forms', dependsOn: ['db'] },
      { name: 'gateway', dependsOn: ['auth', 'forms'] },
    ]);
    try {
      const result = await fixture.devctl(['graph', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const graph = parseJson<GraphReport>(result);
      expect(graph.cycles.map((cycle) => [...cycle].sort())).toEqual([['auth', 'db', 'forms', 'gateway']]);
      const text = await fixture.devctl(['graph']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^cycle: .* wait on each other; devctl start refuses this/m);
      expect(text.stdout).toContain('(cycle)');
      const refused = await fixture.devctl(['start', '--no-build']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('forms a cycle');
    } finally {
      fixture.writeEcosystem([
        { name: 'db' },
        { name: 'auth', dependsOn: ['db'] },
        { name: 'forms', dependsOn: ['db'] },
        { name: 'gateway', dependsOn: ['auth', 'forms'] },
      ]);
    }
  }, 30_000);

  it('an unknown --format is a usage error', async () => {
    const result = await fixture.devctl(['graph', '--format', 'dot']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--format must be text or mermaid');
  });
});
