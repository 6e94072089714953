// The configuration preflight under a real PM2: before `devctl start` or `restart` launches
// anything, each kit service (its package depends on @repo/service-kit) is dry-run with
// `--print-config`. A value the service would refuse (exit 78) stops the command before any
// process starts, naming the service and the variable; a restart leaves the running process alone.
// A check that passed is not run again while its inputs (script, env, .env files) stay the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson, type ScriptApp } from './fixtures/harness';

interface StatusJson {
  services: { name: string; status: string; pid: number | null }[];
}

const stack = (betaMode: string): ScriptApp[] => [
  { name: 'alpha-service', kit: true },
  {
    name: 'beta-service',
    kit: true,
    mode: betaMode,
    dependsOn: ['alpha-service'],
    env: { FIXTURE_API_TOKEN: 'short' },
  },
];

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture(stack('bad-config'));
}, 30_000);
afterAll(async () => {
  await fixture?.cleanup();
});

describe('devctl checks each service configuration before launching anything', () => {
  it('start: a value beta-service refuses stops the start before alpha-service (it starts first) is launched', async () => {
    const human = await fixture.devctl(['start', '--no-build']);
    expect(human.code, human.stdout + human.stderr).toBe(1);
    expect(human.stderr).toContain('nothing was started');
    expect(human.stderr).toContain(
      'beta-service: env.FIXTURE_API_TOKEN: FIXTURE_API_TOKEN has an invalid value "short": must be 8 characters or more (set in ecosystem.config.js)',
    );
    expect(human.stderr).toContain('devctl env beta-service');

    const json = parseJson<{ error: { exitCode: number; problems: { service: string; field: string }[] } }>(
      await fixture.devctl(['start', '--no-build', '--json']),
    );
    expect(json.error.exitCode).toBe(1);
    expect(json.error.problems).toEqual([
      expect.objectContaining({ service: 'beta-service', field: 'env.FIXTURE_API_TOKEN' }),
    ]);
    // No daemon: nothing was launched, not even the daemon.
    expect(fixture.home.daemonPid()).toBeUndefined();
  }, 60_000);

  it('restart: a service whose new configuration it would refuse keeps running on the old one', async () => {
    fixture.writeEcosystem(stack('ok'));
    const started = await fixture.devctl(['start', '--no-build', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const before = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    const pidBefore = before.services.find((s) => s.name === 'beta-service')?.pid;
    expect(pidBefore).toBeGreaterThan(0);

    fixture.writeEcosystem(stack('bad-config'));
    const restart = await fixture.devctl(['restart', 'beta-service', '--no-build', '--wait']);
    expect(restart.code, restart.stdout + restart.stderr).toBe(1);
    expect(restart.stderr).toContain('beta-service: env.FIXTURE_API_TOKEN');
    expect(restart.stderr).toContain('nothing was restarted');

    const after = parseJson<StatusJson>(await fixture.devctl(['status', '--json']));
    expect(after.services.find((s) => s.name === 'beta-service')).toMatchObject({
      status: 'online',
      pid: pidBefore,
    });
  }, 90_000);

  it('a configuration that passed with the same inputs is not dry-run again; a changed .env is', async () => {
    fixture.writeEcosystem(stack('ok'));
    const dryRuns = () => {
      try {
        return readFileSync(join(fixture.root, 'print-config.log'), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    let restart = await fixture.devctl(['restart', 'beta-service', '--no-build', '--wait']);
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    const before = dryRuns().length;
    restart = await fixture.devctl(['restart', 'beta-service', '--no-build', '--wait']);
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(dryRuns().length, 'same script, env and .env files: no second dry run').toBe(before);

    writeFileSync(join(fixture.dir('beta-service'), '.env'), 'GREETING=bonjour\n');
    restart = await fixture.devctl(['restart', 'beta-service', '--no-build', '--wait']);
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(dryRuns().slice(before)).toEqual(['beta-service']);
  }, 90_000);
});
