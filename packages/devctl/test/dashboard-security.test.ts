// The dashboard's guards, each against the real server: the token on every request, loopback Host
// names only (DNS rebinding), actions only by POST with the token in a header (no CSRF), secrets
// masked in every answer (logs read and logs streamed), and the real bin bound to 127.0.0.1 only.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { spawnProcess } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, TOKEN_HEADER } from '../src/dashboard/security';
import { createDashboardServer, type DashboardServer } from '../src/dashboard/server';
import { loadEcosystem } from '../src/ecosystem/index';
import { createFixture, devctlBin, type Fixture } from './fixtures/harness';

let fixture: Fixture;
let dashboard: DashboardServer;
let port = 0;
const token = 'test-token-0123456789abcdefghij';
const SECRET = 'hunter2-very-secret-value';
const savedHome = process.env.PM2_HOME;
/** Whether the hub watched the stack while the event stream was open. */
let activeWhileOpen = false;

interface Answer {
  status: number;
  body: string;
}

/** A raw request, so the test sets the Host header itself (fetch does not let it). */
function call(
  path: string,
  options: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

beforeAll(async () => {
  fixture = await createFixture([{ name: 'alpha' }, { name: 'beta', dependsOn: ['alpha'] }], {
    namespace: 'dash-security',
  });
  // collectStatus reads PM2_HOME: the fixture's private home, where no daemon runs.
  process.env.PM2_HOME = fixture.home.env.PM2_HOME;
  const logs = join(fixture.dir('alpha'), 'logs');
  mkdirSync(logs, { recursive: true });
  appendFileSync(
    join(logs, 'out.log'),
    `2026-01-01T10:00:00: connecting with DATABASE_URL=postgres://app:${SECRET}@db:5432/app\n` +
      `2026-01-01T10:00:01: {"level":30,"time":1767261601000,"msg":"login","authorization":"Bearer ${SECRET}abc","API_TOKEN":"${SECRET}"}\n`,
  );
  dashboard = createDashboardServer({ ecosystem: loadEcosystem(fixture.root), token, port: () => port });
  await new Promise<void>((resolve) => dashboard.server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (dashboard.server.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await dashboard?.close();
  if (savedHome === undefined) delete process.env.PM2_HOME;
  else process.env.PM2_HOME = savedHome;
  await fixture?.cleanup();
});

describe('the token', () => {
  it('is required on every request: the page, its assets, each API and the event stream', async () => {
    for (const path of [
      '/',
      '/assets/index.js',
      '/api/status',
      '/api/graph',
      '/api/logs',
      '/api/events',
      '/nope',
    ]) {
      const answer = await call(path);
      expect(answer.status, path).toBe(401);
      expect(answer.body).toContain('token');
      expect((await call(`${path}${path.includes('?') ? '&' : '?'}token=wrong-token`)).status, path).toBe(
        401,
      );
    }
  });

  it('opens the API with the token in the header or in the query', async () => {
    const byHeader = await call('/api/status', { headers: { [TOKEN_HEADER]: token } });
    expect(byHeader.status).toBe(200);
    expect(JSON.parse(byHeader.body)).toMatchObject({
      namespace: 'dash-security',
      daemon: { running: false },
    });
    expect((await call(`/api/status?token=${token}`)).status).toBe(200);
  });
});

describe('DNS rebinding', () => {
  it('refuses a request whose Host is not a loopback name, even with the token', async () => {
    for (const host of [
      `evil.example:${port}`,
      'evil.example',
      `127.0.0.1.evil.example:${port}`,
      `10.0.0.1:${port}`,
    ]) {
      const answer = await call(`/api/status?token=${token}`, { host });
      expect(answer.status, host).toBe(421);
      expect(answer.body).toContain('loopback');
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await call(`/api/status?token=${token}`, { host })).status, host).toBe(200);
    }
  });

  it('accepts loopback names only, on its own port', () => {
    expect(isLoopbackHost('localhost:80', 81)).toBe(false);
    expect(isLoopbackHost('LOCALHOST:81', 81)).toBe(true);
    expect(isLoopbackHost(undefined, 81)).toBe(false);
  });
});

describe('actions', () => {
  const action = JSON.stringify({ action: 'stop', service: 'alpha' });

  it('are never run by GET, nor by a POST with the token only in the query (a form, an image tag)', async () => {
    expect((await call(`/api/actions?token=${token}&action=stop&service=alpha`)).status).toBe(404);
    const form = await call(`/api/actions?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=stop&service=alpha',
    });
    expect(form.status).toBe(401);
    expect(form.body).toContain(TOKEN_HEADER);
  });

  it('refuse a POST from another origin, and a body that is not JSON', async () => {
    const foreign = await call('/api/actions', {
      method: 'POST',
      headers: { [TOKEN_HEADER]: token, 'content-type': 'application/json', origin: 'http://evil.example' },
      body: action,
    });
    expect(foreign.status).toBe(403);
    const form = await call('/api/actions', {
      method: 'POST',
      headers: { [TOKEN_HEADER]: token, 'content-type': 'text/plain' },
      body: action,
    });
    expect(form.status).toBe(415);
  });

  it('refuse an unknown service or verb before running anything', async () => {
    const post = (body: unknown) =>
      call('/api/actions', {
        method: 'POST',
        headers: {
          [TOKEN_HEADER]: token,
          'content-type': 'application/json',
          origin: `http://127.0.0.1:${port}`,
        },
        body: JSON.stringify(body),
      });
    const unknown = await post({ action: 'stop', service: 'gamma' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('alpha');
    expect((await post({ action: 'delete', service: 'alpha' })).status).toBe(400);
  });
});

describe('secrets', () => {
  it('are masked in the logs the page reads', async () => {
    const answer = await call('/api/logs?service=alpha', { headers: { [TOKEN_HEADER]: token } });
    expect(answer.status).toBe(200);
    const lines = (JSON.parse(answer.body) as { lines: { text: string }[] }).lines;
    expect(lines).toHaveLength(2);
    expect(readFileSync(join(fixture.dir('alpha'), 'logs', 'out.log'), 'utf8')).toContain(SECRET);
    expect(answer.body).not.toContain(SECRET);
    expect(lines[0]?.text).toContain('postgres://app:');
  });

  it('are masked in the lines the event stream sends', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: `/api/events?token=${token}`,
          headers: { host: `127.0.0.1:${port}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
            if (text.includes('event: status') && !text.includes('SENT-LATER')) {
              appendFileSync(
                join(fixture.dir('alpha'), 'logs', 'out.log'),
                `2026-01-01T10:00:02: SENT-LATER SECRET_KEY=${SECRET}\n`,
              );
              text += '\n: SENT-LATER\n';
            }
            if (/event: logs\ndata: .*SENT-LATER/.test(text)) {
              activeWhileOpen = dashboard.hub.active;
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
      setTimeout(() => reject(new Error('no log line on the event stream in 15 s')), 15_000);
    });
    expect(body).toContain('SECRET_KEY=');
    expect(body).not.toContain(SECRET);
  });

  it('stops watching the stack when the last page closes (no interval, no bus, no log follower)', async () => {
    expect(activeWhileOpen).toBe(true);
    await waitFor(() => dashboard.hub.connections === 0);
    await waitFor(() => !dashboard.hub.active);
    expect(dashboard.hub.active).toBe(false);
  });
});

describe('the real bin', () => {
  it('fails with exit 1 naming the taken port, and 2 on a bad --port', async () => {
    const taken = await fixture.devctl(['dashboard', '--port', String(port)]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`port ${port} on 127.0.0.1 is taken`);
    const bad = await fixture.devctl(['dashboard', '--port', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a port number');
  });

  it('listens on 127.0.0.1 only and prints its URL with the token', async () => {
    const bin = spawnProcess(process.execPath, [devctlBin, 'dashboard', '--json'], {
      cwd: fixture.root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...fixture.home.env, DEVCTL_ROOT: fixture.root },
      name: 'devctl dashboard',
    });
    try {
      const line = await bin.waitForOutput(/\{"url".*\}\n/, 15_000);
      const printed = JSON.parse(/\{"url".*\}/.exec(line)?.[0] ?? '{}') as { url: string; port: number };
      expect(printed.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${printed.port}/\\?token=[\\w-]{32}$`));
      // Every listening socket on that port is 127.0.0.1's (0100007F), none on another address or IPv6.
      const hex = printed.port.toString(16).toUpperCase().padStart(4, '0');
      const listening = (file: string) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((row) => row.trim().split(/\s+/))
          .filter((cols) => cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A')
          .map((cols) => cols[1]);
      expect(listening('/proc/net/tcp')).toEqual([`0100007F:${hex}`]);
      expect(listening('/proc/net/tcp6')).toEqual([]);
      expect((await fetch(printed.url)).status).toBe(200);
      expect((await fetch(printed.url.replace(/\?token=.*/, ''))).status).toBe(401);
    } finally {
      await bin.kill('SIGINT');
    }
    expect((await bin.exited).code).toBe(0);
  });
});
