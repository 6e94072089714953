// The one probe module (src/probe.ts) against a real HTTP server: what status, start-up waits and
// diagnose each read of an answer, a refusal and a silence.
import { createServer, type Server } from 'node:http';
import { closedPortUrl } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHealth, probeHttp, probeTcp } from '../src/probe';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    } else if (req.url === '/ready') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"checks":{"data-service":{"ok":false}}}');
    } else if (req.url === '/streamed') {
      // No content-length: chunked for HTTP/1.1 clients, closed-delimited for HTTP/1.0 ones.
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.write('{"part":');
      res.end('1}');
    } else if (req.url === '/silent') {
      // never answers
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('probeHttp', () => {
  it('gives the status and the body parsed as JSON', async () => {
    expect(await probeHttp('127.0.0.1', port, '/health')).toMatchObject({
      path: '/health',
      ok: true,
      status: 200,
      body: { status: 'ok' },
      error: null,
    });
  });

  it('names an error status and keeps the body that says why', async () => {
    expect(await probeHttp('127.0.0.1', port, '/ready')).toMatchObject({
      ok: false,
      status: 503,
      body: { checks: { 'data-service': { ok: false } } },
      error: 'status 503',
    });
  });

  it('reads a chunked body', async () => {
    expect((await probeHttp('127.0.0.1', port, '/streamed')).body).toEqual({ part: 1 });
  });

  it('says a silence is no answer within its timeout, and a refusal is ECONNREFUSED', async () => {
    expect(await probeHttp('127.0.0.1', port, '/silent', 200)).toMatchObject({
      ok: false,
      status: null,
      error: 'no answer within 200 ms',
    });
    const closed = Number(new URL(await closedPortUrl()).port);
    expect((await probeHttp('127.0.0.1', closed, '/health')).error).toBe('ECONNREFUSED');
    expect(await probeTcp('127.0.0.1', closed)).toBe('ECONNREFUSED');
    expect(await probeTcp('127.0.0.1', port)).toBeNull();
  });
});

describe('probeHealth (the shape of devctl status --json)', () => {
  it('is ok with its status code, or names the status and the body', async () => {
    expect(await probeHealth(port)).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(await probeHealth(port, { path: '/ready' })).toMatchObject({
      ok: false,
      statusCode: 503,
      error: 'status 503: {"checks":{"data-service":{"ok":false}}}',
    });
  });
});
