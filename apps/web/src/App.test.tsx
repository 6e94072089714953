// The pages against a real HTTP server that answers as the gateway does (including its failures),
// so the error display is checked on real responses, not on stubs of fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { render, screen, within } from '@testing-library/react';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
import { ErrorBoundary } from './components/ErrorBoundary';
import { TOKEN_KEY } from './session/session';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;
let handler: Handler;
let server: Server;
let baseUrl: string;
const seen: string[] = [];

const json =
  (status: number, body: unknown): Handler =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    // Each answer closes its connection: on a loaded machine a test can start more than the server's
    // 5 s keep-alive after the last, and a fetch reusing the socket the server is closing at that
    // moment fails with "fetch failed" (CI: init-e2e's copy of this file).
    response.setHeader('connection', 'close');
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

function openPage(path: string) {
  window.history.replaceState(null, '', path);
  render(<App apiBaseUrl={baseUrl} />);
}

describe('errors from the gateway', () => {
  it('names the unavailable service from the gateway answer (502 with upstream) and the next command', async () => {
    handler = json(502, {
      message: 'form-service unreachable at 127.0.0.1:3001 (ECONNREFUSED)',
      upstream: 'form-service',
      code: 'ECONNREFUSED',
    });
    openPage('/f/form-1');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This form could not be opened');
    expect(alert.textContent).toContain(
      'form-service is unavailable: form-service unreachable at 127.0.0.1:3001 (ECONNREFUSED)',
    );
    expect(alert.textContent).toContain('pnpm devctl diagnose form-service');
    expect(seen).toEqual(['GET /api/forms/form-1']);
  });

  it('falls back to the service behind the path when a 502 does not name one', async () => {
    handler = json(502, { message: 'bad gateway' });
    openPage('/f/form-1');
    expect((await screen.findByRole('alert')).textContent).toContain(
      'form-service is unavailable: bad gateway',
    );
  });

  it('blames api-gateway when the answer is not the gateway JSON (the proxy found nobody)', async () => {
    handler = (_request, response) => response.writeHead(502, { 'content-type': 'text/plain' }).end();
    openPage('/status');
    expect((await screen.findByRole('alert')).textContent).toContain(
      'api-gateway is unavailable: no JSON answer through /api (HTTP 502 with no body)',
    );
  });

  it('shows a 4xx message as it is, without calling the service unavailable', async () => {
    handler = json(404, { message: 'form form-9 not found' });
    openPage('/f/form-9');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('form form-9 not found');
    expect(alert.textContent).not.toContain('unavailable');
  });
});

describe('status page', () => {
  it('lists each backend with its status and latency, also when the gateway answers 503', async () => {
    handler = json(503, {
      services: {
        'api-gateway': { status: 'ok', latencyMs: 0 },
        'form-service': { status: 'down', latencyMs: 2001, error: 'ECONNREFUSED' },
        'data-service': { status: 'ok', latencyMs: 3.4 },
      },
    });
    openPage('/status');
    const table = await screen.findByRole('table', { name: 'Service health' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((row) => row.getAttribute('data-service'))).toEqual([
      'api-gateway',
      'data-service',
      'form-service',
    ]);
    expect(rows[2]?.textContent).toContain('down');
    expect(rows[2]?.textContent).toContain('2001 ms');
    expect(rows[2]?.textContent).toContain('ECONNREFUSED');
    expect(rows[1]?.textContent).toContain('3 ms');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('session', () => {
  it('sends the owner to the login page when there is no token', async () => {
    handler = json(500, { message: 'must not be called' });
    openPage('/forms');
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(window.location.pathname + window.location.search).toBe('/login?next=%2Fforms');
    expect(seen).toEqual([]);
  });

  it('sends the stored token as a Bearer header and ends the session on 401', async () => {
    window.localStorage.setItem(TOKEN_KEY, 'expired-token');
    const authorizations: (string | undefined)[] = [];
    handler = (request, response) => {
      authorizations.push(request.headers.authorization);
      json(401, { message: 'token expired' })(request, response);
    };
    openPage('/forms');
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(authorizations).toContain('Bearer expired-token');
    expect(window.localStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});

describe('ErrorBoundary', () => {
  it('shows what crashed instead of a blank page', () => {
    const Broken = () => {
      throw new Error('cannot read the fields of undefined');
    };
    const quiet = console.error;
    console.error = () => {};
    try {
      render(
        <ErrorBoundary>
          <Broken />
        </ErrorBoundary>,
      );
    } finally {
      console.error = quiet;
    }
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('This page crashed while rendering');
    expect(alert.textContent).toContain('cannot read the fields of undefined');
  });
});
