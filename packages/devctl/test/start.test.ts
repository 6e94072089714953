// `devctl start` against a real PM2 daemon in a private PM2_HOME, with fixture services on free
// ports: dependency order, --wait, the no-op on a running service, a held port named with its
// holder, and a service that never becomes healthy reported with its status and error lines.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { spawnProcess } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, parseJson } from './fixtures/harness';

interface StartReport {
  ok: boolean;
  namespace: string;
  services: {
    name: string;
    action: string;
    ok: boolean;
    healthy: boolean | null;
    state: string;
    pid: number | null;
    port: number | null;
    elapsedMs: number | null;
    note: string | null;
    failure: null | { kind: string; reason: string; state: string; errorLines: string[]; next: string };
  }[];
}

describe('devctl start', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await createFixture([
      { name: 'db', app: { wait_ready: false } },
      { name: 'cache' },
      { name: 'api', dependsOn: ['db', 'cache'] },
      { name: 'web', dependsOn: ['api'] },
    ]);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('starts every service in dependency order and waits until each answers /health', async () => {
    const result = await fixture.devctl(['start', '--wait', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = parseJson<StartReport>(result);
    expect(report.ok).toBe(true);
    expect(report.services.map((s) => [s.name, s.action, s.healthy])).toEqual(
      expect.arrayContaining([
        ['db', 'started', true],
        ['cache', 'started', true],
        ['api', 'started', true],
        ['web', 'started', true],
      ]),
    );
    // Results are reported as they happen: a dependant is never healthy before its dependencies.
    const order = report.services.map((s) => s.name);
    expect(order.indexOf('api')).toBeGreaterThan(order.indexOf('db'));
    expect(order.indexOf('api')).toBeGreaterThan(order.indexOf('cache'));
    expect(order.indexOf('web')).toBeGreaterThan(order.indexOf('api'));
    for (const service of report.services) {
      expect(service.pid).toBeGreaterThan(0);
      expect(service.port).toBe(fixture.ports[service.name]);
      const health = await fetch(`http://127.0.0.1:${service.port}/health`);
      expect(health.status).toBe(200);
    }
  });

  it('launches a dependant only after each of its dependencies listened', async () => {
    const at = (name: string, event: 'starting' | 'listening') => {
      const log = readFileSync(join(fixture.dir(name), 'logs', 'out.log'), 'utf8');
      const line = log.split('\n').find((l) => l.includes(`${name} ${event}`));
      const iso = / at (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line ?? '')?.[1];
      if (!iso) throw new Error(`no "${event}" line in the log of ${name}:\n${log}`);
      return Date.parse(iso);
    };
    expect(at('api', 'starting')).toBeGreaterThanOrEqual(at('db', 'listening'));
    expect(at('api', 'starting')).toBeGreaterThanOrEqual(at('cache', 'listening'));
    expect(at('web', 'starting')).toBeGreaterThanOrEqual(at('api', 'listening'));
  });

  it('says a running service is already running and does nothing (same pid)', async () => {
    const before = parseJson<{ services: { name: string; pid: number }[] }>(
      await fixture.devctl(['status', '--json']),
    );
    const result = await fixture.devctl(['start', 'api']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/api\s+already running/);
    const after = parseJson<{ services: { name: string; pid: number }[] }>(
      await fixture.devctl(['status', '--json']),
    );
    expect(after.services.find((s) => s.name === 'api')?.pid).toBe(
      before.services.find((s) => s.name === 'api')?.pid,
    );
  });
});

describe('devctl start failures', () => {
  let fixture: Fixture;
  let holder: Server;

  beforeAll(async () => {
    fixture = await createFixture([
      { name: 'good' },
      { name: 'broken', mode: 'crash' },
      { name: 'sick', mode: 'unhealthy' },
      { name: 'blocked' },
      { name: 'needs-broken', dependsOn: ['broken'] },
      { name: 'misconfigured', mode: 'config-error' },
    ]);
    // A foreign listener that says nothing; it reads, so a client that goes away closes its socket.
    holder = createServer((socket) => socket.on('error', () => {}).resume());
    await new Promise<void>((resolve) => holder.listen(fixture.ports.blocked, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
    await fixture?.cleanup();
  });

  it('exits 1 naming each service that did not become healthy, with its status and last error lines', async () => {
    // Long enough for three crashes of `broken` on a loaded machine (each is a node start-up), so it
    // is told as a crash loop, not as a timeout.
    const result = await fixture.devctl(['start', '--wait', '--timeout', '12']);
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toMatch(/✓ good\s+started, healthy/);
    // The crashing service: its PM2 status and the error it wrote.
    expect(out).toMatch(
      /✗ broken\s+started: it crashed \d+ times since the start|✗ broken\s+started: PM2 gave up/,
    );
    expect(out).toContain('Error: broken failed on purpose at start');
    expect(out).toMatch(/next: devctl logs broken --err/);
    // The unhealthy one: the answer /health gave.
    expect(out).toMatch(/✗ sick\s+started: no healthy answer within 12 s/);
    expect(out).toContain('database unreachable');
    // Never "online"/healthy for those.
    expect(out).not.toMatch(/✓ (broken|sick|blocked|needs-broken|misconfigured)/);
    // The dependant of a failed service is not launched.
    expect(out).toMatch(/✗ needs-broken\s+not started: depends on broken, which is not healthy/);
    // A configuration error (exit 78, in stop_exit_codes) fails at once, not after the timeout.
    expect(out).toMatch(/✗ misconfigured\s+started: it exited with code 78 and PM2 did not restart it/);
    expect(out).toContain('FIXTURE_API_TOKEN is required but not set');
    expect(result.stderr).toMatch(/start: 5 of 6 services failed: /);
    for (const name of ['broken', 'sick', 'blocked', 'needs-broken', 'misconfigured']) {
      expect(result.stderr).toContain(name);
    }
  });

  it('names the pid and command line of the process holding a port, and does not launch the service', async () => {
    const result = await fixture.devctl(['start', 'blocked', '--json']);
    expect(result.code).toBe(1);
    const report = parseJson<StartReport>(result);
    const blocked = report.services.find((s) => s.name === 'blocked');
    expect(blocked?.action).toBe('not started');
    expect(blocked?.failure?.kind).toBe('port-in-use');
    expect(blocked?.failure?.reason).toContain(`port ${fixture.ports.blocked} is held by pid ${process.pid}`);
    expect(blocked?.failure?.reason).toContain('not part of this project');
    const list = parseJson<{ services: { name: string; status: string }[] }>(
      await fixture.devctl(['status', '--json']),
    );
    expect(list.services.find((s) => s.name === 'blocked')?.status).toBe('not started');
  });

  it('calls another leftover process of this project an orphan, names it in status, and says how to stop it', async () => {
    await new Promise((resolve) => holder.close(resolve));
    const script = `require('node:http').createServer((q, s) => s.end('stray')).listen(${fixture.ports.blocked}, '127.0.0.1', () => console.log('listening'))`;
    const orphan = spawnProcess(process.execPath, ['-e', script], {
      cwd: fixture.root,
      env: { PATH: process.env.PATH },
    });
    try {
      await orphan.waitForOutput('listening');
      const result = await fixture.devctl(['start', 'blocked']);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`is held by pid ${orphan.pid} (`);
      expect(result.stdout).toContain('an orphan of this project');
      expect(result.stdout).toContain(`kill ${orphan.pid}`);
      // status names it too, as a leftover holding the port of a service that does not run.
      const status = parseJson<{ leftovers: unknown[] }>(await fixture.devctl(['status', '--json']));
      expect(status.leftovers).toEqual([
        {
          service: 'blocked',
          port: fixture.ports.blocked,
          pid: orphan.pid,
          command: expect.stringContaining('-e'),
          orphan: true,
        },
      ]);
    } finally {
      await orphan.kill();
    }
  });

  it('replaces a leftover of the same service run without PM2 (as after a killed daemon) and starts it under PM2', async () => {
    const leftover = spawnProcess(process.execPath, ['server.js'], {
      cwd: fixture.dir('blocked'),
      env: { PATH: process.env.PATH, PORT: String(fixture.ports.blocked), FIXTURE_NAME: 'blocked' },
    });
    try {
      await leftover.waitForOutput('listening');
      const result = await fixture.devctl(['start', 'blocked', '--wait', '--json']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const [blocked] = parseJson<StartReport>(result).services;
      expect(blocked).toMatchObject({ name: 'blocked', action: 'started', healthy: true });
      expect(blocked?.pid).not.toBe(leftover.pid);
      expect(blocked?.note).toBe(`replaced a leftover blocked run without PM2 (pid ${leftover.pid})`);
      // devctl stopped it with SIGTERM, which the server handles by closing and exiting 0.
      expect(await leftover.exited).toMatchObject({ code: 0 });
      const health = (await (
        await fetch(`http://127.0.0.1:${fixture.ports.blocked}/health`)
      ).json()) as object;
      expect(health).toEqual({ status: 'ok' });
    } finally {
      await leftover.kill();
      holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    }
  });
});

describe('devctl start: build first, and refuse a bad ecosystem before starting anything', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await createFixture([
      // Runs the built copy: its package.json `build` script makes dist/server.js.
      { name: 'built', app: { script: 'dist/server.js' } },
      { name: 'plain' },
    ]);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(fixture.dir('built'), { recursive: true });
    writeFileSync(
      join(fixture.dir('built'), 'package.json'),
      JSON.stringify({
        name: '@fixture/built',
        scripts: {
          build:
            "node -e \"require('fs').mkdirSync('dist',{recursive:true});require('fs').copyFileSync('server.js','dist/server.js')\"",
        },
      }),
    );
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('with --no-build, refuses a service whose built script is missing, naming the entry and field', async () => {
    const result = await fixture.devctl(['start', 'built', '--no-build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('built: script:');
    expect(result.stderr).toContain(join('services', 'built', 'dist', 'server.js'));
    expect(result.stderr).toContain('does not exist');
    expect(fixture.home.daemonPid()).toBeUndefined();
  });

  it('builds the service with its package build script, then starts it', async () => {
    const result = await fixture.devctl(['start', 'built', '--wait']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/built 1 service in \S+ \(pnpm\)/);
    expect(result.stdout).toMatch(/✓ built\s+started, healthy/);
  });

  it('stops at a failing build that is not esbuild, printing the end of its output', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(fixture.dir('built'), 'package.json'),
      JSON.stringify({
        name: '@fixture/built',
        scripts: {
          build: 'node -e "console.error(\'TS2322: type error in src/index.ts\'); process.exit(2)"',
        },
      }),
    );
    const result = await fixture.devctl(['restart', 'built']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'build failed for built (pnpm run build); nothing was restarted (a running process keeps running)',
    );
    expect(result.stderr).toContain('TS2322: type error in src/index.ts');
  });

  it('refuses duplicate ports, a missing cwd and an unknown dependency, naming each entry and field', async () => {
    fixture.writeEcosystem([{ name: 'built' }, { name: 'plain', dependsOn: ['nowhere'] }]);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = join(fixture.root, 'ecosystem.config.js');
    const broken = readFileSync(file, 'utf8')
      .replace(`"PORT": "${fixture.ports.plain}"`, `"PORT": "${fixture.ports.built}"`)
      .replace(`"cwd": "${fixture.dir('plain')}"`, `"cwd": "${fixture.dir('plain')}-gone"`);
    writeFileSync(file, broken);
    const before = parseJson<{ services: { name: string; status: string }[] }>(
      await fixture.devctl(['status', '--json']),
    );
    const result = await fixture.devctl(['start', 'plain']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing was started');
    expect(result.stderr).toContain(`plain: env.PORT: port ${fixture.ports.built} is also used by built`);
    expect(result.stderr).toContain(`plain: cwd: the folder ${fixture.dir('plain')}-gone does not exist`);
    expect(result.stderr).toContain('plain: depends_on: depends on nowhere, which is not in the ecosystem');
    const after = parseJson<{ services: { name: string; status: string }[] }>(
      await fixture.devctl(['status', '--json']),
    );
    expect(after.services.map((s) => s.status)).toEqual(before.services.map((s) => s.status));
  });
});
