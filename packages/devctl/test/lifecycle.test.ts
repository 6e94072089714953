// stop, restart and delete on a real PM2 daemon: what each does to the named services only, that
// restart applies an edited .env and an edited ecosystem env (no --update-env trap), and that
// `restart --wait` prints exactly the log lines written since the restart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson, type ScriptApp } from './fixtures/harness';
import { nameOf, pm2Processes } from './fixtures/pm2-list';

interface Status {
  daemon: { running: boolean };
  services: { name: string; status: string; pid: number | null; restarts: number }[];
}

const apps: ScriptApp[] = [{ name: 'store' }, { name: 'api', dependsOn: ['store'] }, { name: 'mailer' }];

describe('devctl stop, restart, delete', () => {
  let fixture: Fixture;
  const status = async () => parseJson<Status>(await fixture.devctl(['status', '--json']));
  const service = async (name: string) => (await status()).services.find((s) => s.name === name);

  beforeAll(async () => {
    fixture = await createFixture(apps);
    const started = await fixture.devctl(['start', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('stop <name> stops that service only', async () => {
    const result = await fixture.devctl(['stop', 'mailer']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✓ mailer\s+stopped/);
    // One status run reads all three (a devctl process per look only cost CPU).
    const states = Object.fromEntries((await status()).services.map((s) => [s.name, s.status]));
    expect(states).toEqual({ mailer: 'stopped', api: 'online', store: 'online' });
    const again = await fixture.devctl(['stop', 'mailer']);
    expect(again.stdout).toMatch(/mailer\s+already stopped/);
  });

  it('restart applies an edited service .env, and --wait prints only the lines written since', async () => {
    const oldPid = (await service('api'))?.pid;
    writeFileSync(join(fixture.dir('api'), '.env'), 'GREETING=bonjour\n');
    const result = await fixture.devctl(['restart', 'api', '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson<{
      ok: boolean;
      services: { name: string; action: string; healthy: boolean; pid: number }[];
      logLines: { service: string; stream: string; text: string }[];
      verdict: { healthy: boolean; findings: unknown[] };
    }>(result);
    // diagnose's verdict over the restarted service, counting only what happened since.
    expect(report.verdict).toMatchObject({ healthy: true, findings: [] });
    expect(report.services).toEqual([
      expect.objectContaining({ name: 'api', action: 'restarted', healthy: true }),
    ]);
    const newPid = report.services[0]?.pid;
    expect(newPid).not.toBe(oldPid);
    const texts = report.logLines.map((l) => l.text);
    expect(texts.some((t) => t.includes('api greeting: bonjour'))).toBe(true);
    expect(texts.some((t) => t.includes(`pid ${newPid})`))).toBe(true);
    // Nothing from before the restart.
    expect(texts.some((t) => t.includes(`pid ${oldPid})`))).toBe(false);
    expect(texts.some((t) => t.includes('greeting: hello'))).toBe(false);
  });

  it('restart applies an edited env of ecosystem.config.js', async () => {
    fixture.writeEcosystem(
      apps.map((app) => (app.name === 'api' ? { ...app, env: { GREETING: 'hallo' } } : app)),
    );
    const result = await fixture.devctl(['restart', 'api', '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ api\s+restarted, healthy/);
    expect(result.stdout).toContain('api greeting: hallo');
    expect(result.stdout).toMatch(/api log since the restart/);
    expect(result.stdout).toContain('✓ verdict: healthy, no new error since the restart');
  });

  it('restart of a stopped service starts it', async () => {
    const result = await fixture.devctl(['restart', 'mailer', '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect((await service('mailer'))?.status).toBe('online');
  });

  it('delete <name> removes it from PM2; the others keep running', async () => {
    const result = await fixture.devctl(['delete', 'mailer', '--json']);
    expect(result.code).toBe(0);
    expect(parseJson<{ services: { name: string; action: string }[] }>(result).services).toEqual([
      expect.objectContaining({ name: 'mailer', action: 'deleted' }),
    ]);
    const after = (await status()).services;
    expect(after.find((s) => s.name === 'mailer')?.status).toBe('not started');
    expect(after.find((s) => s.name === 'api')?.status).toBe('online');
    expect((await pm2Processes(fixture.home.home)).map(nameOf).sort()).toEqual(['api', 'store']);
  });

  it('stop all stops dependants before their dependencies', async () => {
    const result = await fixture.devctl(['stop', 'all']);
    expect(result.code).toBe(0);
    expect(result.stdout.indexOf('api')).toBeLessThan(result.stdout.indexOf('store'));
    const after = await status();
    expect(after.services.filter((s) => s.status === 'online')).toEqual([]);
  });

  it('delete all empties the namespace', async () => {
    const result = await fixture.devctl(['delete', 'all']);
    expect(result.code).toBe(0);
    expect((await status()).services.every((s) => s.status === 'not started')).toBe(true);
  });
});

describe('lifecycle commands when the daemon is not running', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await createFixture(apps);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('stop and delete say there is nothing to do and do not start a daemon', async () => {
    for (const verb of ['stop', 'delete']) {
      const result = await fixture.devctl([verb, 'all']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        `PM2 daemon is not running (PM2_HOME=${fixture.home.home}); nothing to ${verb}`,
      );
    }
    expect(fixture.home.daemonPid()).toBeUndefined();
  });

  it('an unknown service name exits 2 with the known names and the closest one', async () => {
    for (const verb of ['stop', 'restart', 'delete', 'start', 'status']) {
      const result = await fixture.devctl([verb, 'mailr']);
      expect(result.code, `${verb}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('unknown service "mailr"');
      expect(result.stderr).toContain('did you mean mailer?');
      expect(result.stderr).toContain('store, api, mailer');
    }
    expect(fixture.home.daemonPid()).toBeUndefined();
  });
});
