import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, closedPortUrl, startStub } from './helpers';

const healthy = () => startStub(() => {});

describe('GET /api/health', () => {
  const stubs: Awaited<ReturnType<typeof startStub>>[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let gateway: FastifyInstance;
  let allUp: FastifyInstance;
  let formUrl: string;

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) stubs.push(await healthy());
    // scheduler-service accepts the connection but never answers /health.
    const hung = await startStub((app) => {
      app.addHook('onRequest', async (req) => {
        if (req.url === '/health') await released;
      });
    });
    stubs.push(hung);
    const [auth, email, data, worker, scheduler] = stubs.map((s) => s.url);
    formUrl = await closedPortUrl();
    gateway = await buildGateway({
      AUTH_SERVICE_URL: auth as string,
      FORM_SERVICE_URL: formUrl,
      EMAIL_SERVICE_URL: email as string,
      DATA_SERVICE_URL: data as string,
      WORKER_SERVICE_URL: worker as string,
      SCHEDULER_SERVICE_URL: hung.url,
      // Long enough for a healthy stub on a loaded machine; the hung one still times out.
      HEALTH_PROBE_TIMEOUT_MS: '2500',
    });
    allUp = await buildGateway({
      AUTH_SERVICE_URL: auth as string,
      FORM_SERVICE_URL: scheduler as string,
      EMAIL_SERVICE_URL: email as string,
      DATA_SERVICE_URL: data as string,
      WORKER_SERVICE_URL: worker as string,
      SCHEDULER_SERVICE_URL: scheduler as string,
      HEALTH_PROBE_TIMEOUT_MS: '5000',
    });
  });
  afterAll(async () => {
    release();
    await gateway?.close();
    await allUp?.close();
    for (const stub of stubs) await stub.close();
  });

  it('reports every backend by PM2 name, ok when all answer', async () => {
    const res = await allUp.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(Object.keys(body.services).sort()).toEqual([
      'api-gateway',
      'auth-service',
      'data-service',
      'email-service',
      'form-service',
      'scheduler-service',
      'worker-service',
    ]);
    for (const health of Object.values(body.services)) {
      expect(health).toEqual({ status: 'ok', latencyMs: expect.any(Number) });
    }
  });

  it('answers 200 with one service refused and one hung marked down, each with its error', async () => {
    const res = await gateway.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('degraded');
    expect(body.down.sort()).toEqual(['form-service', 'scheduler-service']);
    expect(body.services['form-service']).toEqual({
      status: 'down',
      latencyMs: expect.any(Number),
      error: `form-service unreachable at ${new URL(formUrl).host} (ECONNREFUSED)`,
    });
    expect(body.services['scheduler-service']).toMatchObject({
      status: 'down',
      error: expect.stringContaining('scheduler-service timed out after 2500 ms'),
    });
    for (const name of ['api-gateway', 'auth-service', 'email-service', 'data-service', 'worker-service']) {
      expect(body.services[name].status).toBe('ok');
    }
  });
});
