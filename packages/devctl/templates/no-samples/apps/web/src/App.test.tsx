// The pages against a real HTTP server that answers as the gateway does (including its failures),
// so the error display is checked on real responses, not on stubs of fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
import { ErrorBoundary } from './components/ErrorBoundary';

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

describe('start page', () => {
  it('says what this frontend is, calls nothing, and its link opens the status page', async () => {
    handler = json(200, { services: { 'api-gateway': { status: 'ok', latencyMs: 1 } } });
    openPage('/');
    expect(screen.getByRole('heading', { name: 'The frontend starts here' })).toBeTruthy();
    expect(seen).toEqual([]);

    await userEvent.setup().click(screen.getByRole('link', { name: 'The status page' }));
    expect(window.location.pathname).toBe('/status');
    expect(await screen.findByRole('table', { name: 'Service health' })).toBeTruthy();
    expect(seen).toEqual(['GET /api/health']);
  });

  it('answers an unknown path with a page that leads back to the start', () => {
    openPage('/no/such/page');
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Go to the start page' }).getAttribute('href')).toBe('/');
  });
});

describe('status page', () => {
  it('lists each backend with its status and latency, also when the gateway answers 503', async () => {
    handler = json(503, {
      services: {
        'api-gateway': { status: 'ok', latencyMs: 0 },
        'billing-service': { status: 'down', latencyMs: 2001, error: 'ECONNREFUSED' },
        'accounts-service': { status: 'ok', latencyMs: 3.4 },
      },
    });
    openPage('/status');
    const table = await screen.findByRole('table', { name: 'Service health' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((row) => row.getAttribute('data-service'))).toEqual([
      'accounts-service',
      'api-gateway',
      'billing-service',
    ]);
    expect(rows[2]?.textContent).toContain('down');
    expect(rows[2]?.textContent).toContain('2001 ms');
    expect(rows[2]?.textContent).toContain('ECONNREFUSED');
    expect(rows[0]?.textContent).toContain('3 ms');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('blames api-gateway when the answer is not the gateway JSON (the proxy found nobody), with the next command', async () => {
    handler = (_request, response) => response.writeHead(502, { 'content-type': 'text/plain' }).end();
    openPage('/status');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The health report could not be loaded');
    expect(alert.textContent).toContain(
      'api-gateway is unavailable: no JSON answer through /api (HTTP 502 with no body)',
    );
    expect(alert.textContent).toContain('pnpm devctl diagnose api-gateway');
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
