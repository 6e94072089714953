import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, UpstreamError } from '../src/errors';
import { createServiceClient } from '../src/http-client';
import { runWithRequestId } from '../src/request-context';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('createServiceClient', () => {
  it('sends JSON, forwards the current request id and returns the parsed answer', async () => {
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ got: JSON.parse(body), id: req.headers['x-request-id'] }));
      });
    });
    const client = createServiceClient({ name: 'data-service', baseUrl: url });
    const answer = await runWithRequestId('req-42', () =>
      client.post<{ got: unknown; id: string }>('/x', { a: 1 }),
    );
    expect(answer).toEqual({ got: { a: 1 }, id: 'req-42' });
  });

  it('names the upstream when it is unreachable (502)', async () => {
    const port = await closedPort();
    const client = createServiceClient({ name: 'data-service', baseUrl: `http://127.0.0.1:${port}` });
    const error = await client.get('/users/1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).statusCode).toBe(502);
    expect((error as Error).message).toBe(`data-service unreachable at 127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('names the upstream when it does not answer in time (504)', async () => {
    const url = await serve(() => {
      /* never answers */
    });
    const client = createServiceClient({ name: 'email-service', baseUrl: url, timeoutMs: 150 });
    const error = await client.get('/slow').catch((e: unknown) => e);
    expect((error as UpstreamError).statusCode).toBe(504);
    expect((error as Error).message).toMatch(/^email-service timed out after 150 ms at 127\.0\.0\.1:\d+$/);
  });

  it('passes an upstream 4xx on with its message and details, and turns a 5xx into a 502', async () => {
    const url = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/conflict') {
        res.statusCode = 409;
        res.end(JSON.stringify({ message: 'email already registered', field: 'email' }));
      } else {
        res.statusCode = 500;
        res.end(JSON.stringify({ message: 'internal server error' }));
      }
    });
    const client = createServiceClient({ name: 'auth-service', baseUrl: url });
    const conflict = await client.get('/conflict').catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(HttpError);
    expect(conflict).toMatchObject({
      statusCode: 409,
      message: 'email already registered',
      details: { field: 'email' },
    });
    const broken = await client.get('/broken').catch((e: unknown) => e);
    expect(broken).toMatchObject({
      statusCode: 502,
      message: 'auth-service failed: 500 internal server error',
    });
  });
});
