import { createServer } from 'node:net';
import { createApp, createLogger, serviceUrlVariable } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../src/app';
import { ISSUER } from '../src/authenticate';
import { configSchema } from '../src/config';
import { type ForwardedRoute, generatedRouteConfig } from '../src/routes/forward';

// Self-contained on purpose: `devctl init --no-samples` keeps this file and drops the sample tests.
const SECRET = 'generated-routes-secret-generated-routes';
const silent = () => createLogger({ service: 'test', level: 'silent' });

/** A port the OS just handed out and that was closed again: nothing listens there. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Seen {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: unknown;
}

/** A real upstream: records what reached it; /slow never answers in time, /boom answers 500. */
async function startUpstream(): Promise<{ url: string; seen: Seen[]; app: FastifyInstance }> {
  const seen: Seen[] = [];
  const app = createApp({ service: 'billing-service', logger: silent() });
  app.addHook('onRequest', async (req) => {
    if (req.url !== '/health')
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: null });
  });
  app.addHook('preHandler', async (req) => {
    const last = seen.at(-1);
    if (last && req.url !== '/health') last.body = req.body ?? null;
  });
  app.get('/items', async (req) => ({ items: [], query: req.query }));
  app.post('/items', async (req, reply) => {
    reply.code(201);
    return { id: 'i-1', ...(req.body as object) };
  });
  app.get('/', async () => ({ root: true }));
  app.get('/missing', async (_req, reply) => reply.code(404).send({ message: 'no such item' }));
  app.get('/boom', async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/slow', async () => new Promise((resolve) => setTimeout(() => resolve({ late: true }), 2000)));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('upstream has no TCP address');
  return { url: `http://127.0.0.1:${address.port}`, seen, app };
}

/**
 * Generous bounds for the upstream and the health probe, so an in-process upstream that answers
 * late on a loaded machine is not taken for a slow one; the 504 test sets a short one of its own.
 */
const ROOMY_TIMEOUTS = { upstreamMs: 10_000, probeMs: 10_000 };

async function gatewayWith(
  routes: ForwardedRoute[],
  timeouts: { upstreamMs: number; probeMs: number } = ROOMY_TIMEOUTS,
): Promise<FastifyInstance> {
  const nowhere = `http://127.0.0.1:${await closedPort()}`;
  // Every upstream the gateway knows points where nothing listens, never at the stack's own ports.
  const urls = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => key.endsWith('_URL'))
      .map((key) => [key, nowhere]),
  );
  const config = configSchema.parse({
    ...urls,
    NODE_ENV: 'test',
    JWT_SECRET: SECRET,
    UPSTREAM_TIMEOUT_MS: String(timeouts.upstreamMs),
    HEALTH_PROBE_TIMEOUT_MS: String(timeouts.probeMs),
  });
  return buildApp({ config, logger: silent(), jwtSecret: SECRET, forwardedRoutes: routes });
}

const token = (sub: string) =>
  new SignJWT({ email: `${sub}@example.org` })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

describe('routes added by devctl new service --route', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gateway: FastifyInstance;
  let downUrl: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    downUrl = `http://127.0.0.1:${await closedPort()}`;
    gateway = await gatewayWith([
      { prefix: '/api/billing', service: 'billing-service', port: 1, auth: 'public', baseUrl: upstream.url },
      { prefix: '/api/ledger', service: 'ledger-service', port: 1, auth: 'bearer', baseUrl: upstream.url },
      { prefix: '/api/gone', service: 'gone-service', port: 1, auth: 'public', baseUrl: downUrl },
      // A service made without --route: probed by /api/health, reachable through no prefix.
      { service: 'quiet-service', port: 1, baseUrl: upstream.url },
    ]);
  });
  afterAll(async () => {
    await gateway?.close();
    const closing = upstream?.app.close();
    upstream?.app.server.closeAllConnections();
    await closing;
  });

  it('forwards the path without its prefix, with the query, and passes status and body back', async () => {
    const list = await gateway.inject({ method: 'GET', url: '/api/billing/items?page=2' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [], query: { page: '2' } });
    expect(upstream.seen.at(-1)?.url).toBe('/items?page=2');

    const created = await gateway.inject({
      method: 'POST',
      url: '/api/billing/items',
      payload: { name: 'pen' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ id: 'i-1', name: 'pen' });
    expect(upstream.seen.at(-1)?.body).toEqual({ name: 'pen' });

    const root = await gateway.inject({ method: 'GET', url: '/api/billing' });
    expect(root.json()).toEqual({ root: true });
    expect(upstream.seen.at(-1)?.url).toBe('/');
  });

  it('passes an upstream 4xx on as it is, naming the service in x-upstream', async () => {
    const res = await gateway.inject({ method: 'GET', url: '/api/billing/missing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ message: 'no such item' });
    // The frontend's client names the failed service from it (its body does not).
    expect(res.headers['x-upstream']).toBe('billing-service');
  });

  it('sends its request id and never a client-sent x-user-id', async () => {
    await gateway.inject({
      method: 'GET',
      url: '/api/billing/items',
      headers: { 'x-request-id': 'req-42', 'x-user-id': 'someone-else' },
    });
    expect(upstream.seen.at(-1)?.headers['x-request-id']).toBe('req-42');
    expect(upstream.seen.at(-1)?.headers['x-user-id']).toBeUndefined();
  });

  it('on a bearer route, answers 401 without a token and passes the user as x-user-id with one', async () => {
    const before = upstream.seen.length;
    const refused = await gateway.inject({ method: 'GET', url: '/api/ledger/items' });
    expect(refused.statusCode).toBe(401);
    expect(upstream.seen.length).toBe(before);

    const res = await gateway.inject({
      method: 'GET',
      url: '/api/ledger/items',
      headers: { authorization: `Bearer ${await token('u-7')}` },
    });
    expect(res.statusCode).toBe(200);
    expect(upstream.seen.at(-1)?.headers['x-user-id']).toBe('u-7');
  });

  it('answers 502 naming the service when it is down or fails, without its 5xx body', async () => {
    const down = await gateway.inject({ method: 'GET', url: '/api/gone/items' });
    expect(down.statusCode).toBe(502);
    expect(down.json()).toEqual({
      message: `gone-service unreachable at ${new URL(downUrl).host} (ECONNREFUSED)`,
      upstream: 'gone-service',
      code: 'ECONNREFUSED',
      requestId: down.headers['x-request-id'],
    });
    const failed = await gateway.inject({ method: 'GET', url: '/api/billing/boom' });
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toMatchObject({ upstream: 'billing-service', code: 'HTTP_500' });
    expect(failed.body).not.toContain('hunter2');
  });

  it('answers 504 naming the service when it is slower than UPSTREAM_TIMEOUT_MS', async () => {
    // /slow answers after 2 s: a gateway that waits 500 ms gives up first.
    const impatient = await gatewayWith(
      [
        {
          prefix: '/api/billing',
          service: 'billing-service',
          port: 1,
          auth: 'public',
          baseUrl: upstream.url,
        },
      ],
      { upstreamMs: 500, probeMs: 300 },
    );
    onTestFinished(() => impatient.close());
    const res = await impatient.inject({ method: 'GET', url: '/api/billing/slow' });
    expect(res.statusCode).toBe(504);
    expect(res.json().message).toBe(
      `billing-service timed out after 500 ms at ${new URL(upstream.url).host}`,
    );
  });

  it('lists each forwarded service in GET /api/health', async () => {
    const res = await gateway.inject({ method: 'GET', url: '/api/health' });
    const { services } = res.json();
    expect(services['billing-service']).toEqual({ status: 'ok', latencyMs: expect.any(Number) });
    expect(services['gone-service']).toMatchObject({ status: 'down' });
    expect(services['quiet-service']).toEqual({ status: 'ok', latencyMs: expect.any(Number) });
  });

  it('forwards no path to a service registered without a prefix', async () => {
    const res = await gateway.inject({ method: 'GET', url: '/api/quiet/items' });
    expect(res.statusCode).toBe(404);
    expect(upstream.seen.some((seen) => seen.url.includes('quiet'))).toBe(false);
  });
});

describe('the URL variable of a generated route', () => {
  // safeExtend: after `devctl new service billing`, generated.ts already declares BILLING_SERVICE_URL
  // and extend() refuses to overwrite a key of a refined schema.
  const schema = configSchema.safeExtend(
    generatedRouteConfig([
      { prefix: '/api/billing', service: 'billing-service', port: 3999, auth: 'public' },
    ]),
  );

  it('is <PM2 NAME>_URL, defaulting to the port of the route', () => {
    expect(serviceUrlVariable('billing-service')).toBe('BILLING_SERVICE_URL');
    expect((schema.parse({}) as Record<string, unknown>).BILLING_SERVICE_URL).toBe('http://127.0.0.1:3999');
  });

  it('refuses a value that is not an http(s) URL', () => {
    expect(schema.safeParse({ BILLING_SERVICE_URL: 'billing:3999' }).success).toBe(false);
  });
});
