// devctl acts only on its project's PM2 namespace: another project's apps in the same daemon --
// started with PM2's own CLI, one of them even under the same name as ours -- survive `stop all`,
// `delete all` and a named stop, and never show in devctl's status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson } from './fixtures/harness';
import { nameOf, pm2Processes } from './fixtures/pm2-list';

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { namespace: string; status: string };
}

describe('namespace isolation', () => {
  let fixture: Fixture;
  /** PM2's own list (what `pm2 jlist` prints), on the daemon's socket: no PM2 CLI per look. */
  const jlist = async (): Promise<Pm2Process[]> =>
    (await pm2Processes(fixture.home.home)).map((p) => ({
      name: nameOf(p) ?? '',
      pid: Number(p.pid),
      pm2_env: { namespace: String(p.pm2_env?.namespace), status: String(p.pm2_env?.status) },
    }));
  const foreign = async () => (await jlist()).filter((p) => p.pm2_env.namespace === 'other-project');

  beforeAll(async () => {
    fixture = await createFixture([{ name: 'api' }, { name: 'worker' }]);
    const started = await fixture.devctl(['start', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const { freePorts } = await import('@repo/test-utils');
    const ports = await freePorts(2);
    // Another project's apps in the same daemon: one with a name of ours.
    for (const [i, name] of ['shop', 'api'].entries()) {
      const result = await fixture.pm2(
        ['start', `${fixture.dir('worker')}/server.js`, '--name', name, '--namespace', 'other-project'],
        { PORT: String(ports[i]), FIXTURE_NAME: `foreign-${name}` },
      );
      expect(result.code, result.stderr).toBe(0);
    }
    expect((await foreign()).map((p) => p.pm2_env.status)).toEqual(['online', 'online']);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('status lists only this namespace', async () => {
    const report = parseJson<{ services: { name: string; inEcosystem: boolean }[] }>(
      await fixture.devctl(['status', '--json']),
    );
    expect(report.services.map((s) => s.name)).toEqual(['api', 'worker']);
  });

  it("stop <name> stops our api, not the other project's api", async () => {
    const result = await fixture.devctl(['stop', 'api']);
    expect(result.code).toBe(0);
    const list = await jlist();
    expect(list.find((p) => p.name === 'api' && p.pm2_env.namespace === 'fixture')?.pm2_env.status).toBe(
      'stopped',
    );
    expect(
      list.find((p) => p.name === 'api' && p.pm2_env.namespace === 'other-project')?.pm2_env.status,
    ).toBe('online');
  });

  it('stop all and delete all leave the other namespace running', async () => {
    const foreignPids = (await foreign()).map((p) => p.pid);
    expect((await fixture.devctl(['stop', 'all'])).code).toBe(0);
    expect((await foreign()).map((p) => [p.pm2_env.status, p.pid])).toEqual(
      foreignPids.map((pid) => ['online', pid]),
    );
    expect((await fixture.devctl(['delete', 'all'])).code).toBe(0);
    const list = await jlist();
    expect(list.filter((p) => p.pm2_env.namespace === 'fixture')).toEqual([]);
    expect(
      list
        .filter((p) => p.pm2_env.namespace === 'other-project')
        .map((p) => [p.name, p.pm2_env.status, p.pid]),
    ).toEqual([
      ['shop', 'online', foreignPids[0]],
      ['api', 'online', foreignPids[1]],
    ]);
  });
});
