import { createServer } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort, readStackServices, stackUrlVariables, startWaves, waitForHttp } from '../src/index';

describe('the stack as ecosystem.config.js declares it', () => {
  it('starts in waves where every service comes after the services it depends on', () => {
    const services = readStackServices();
    // Generic on purpose: projects made with `devctl new service` or `init --no-samples` reuse it.
    expect(services.length).toBeGreaterThan(0);
    const waves = startWaves(services);
    for (const s of waves[0] ?? []) expect(s.dependsOn).toEqual([]);
    expect(waves.flat()).toHaveLength(services.length);
    const started = new Set<string>();
    for (const wave of startWaves(services)) {
      for (const s of wave)
        for (const d of s.dependsOn) expect(started.has(d), `${s.name} before ${d}`).toBe(true);
      for (const s of wave) started.add(s.name);
    }
  });

  it('refuses a dependency cycle', () => {
    const cycle = [
      { name: 'a-service', cwd: '/a', dependsOn: ['b-service'] },
      { name: 'b-service', cwd: '/b', dependsOn: ['a-service'] },
    ];
    expect(() => startWaves(cycle)).toThrow(/cycle among a-service, b-service/);
  });

  it('wires the services others call through their URL variables; the gateway has none', () => {
    expect(
      stackUrlVariables({
        'data-service': 'http://127.0.0.1:1',
        'scheduler-service': 'http://127.0.0.1:2',
        'api-gateway': 'http://127.0.0.1:3',
      }),
    ).toEqual({ DATA_SERVICE_URL: 'http://127.0.0.1:1', SCHEDULER_SERVICE_URL: 'http://127.0.0.1:2' });
  });
});

describe('waitForHttp', () => {
  it('names the url and the last failure when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}/health`;
    await expect(waitForHttp(url, { timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(
      new RegExp(`${url}.*within 300 ms; last failure: ECONNREFUSED`),
    );
  });

  it('waits for the expected status and names the last status otherwise', async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      res.statusCode = calls < 3 ? 503 : 200;
      res.end(calls < 3 ? 'warming up' : 'ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;

    const response = await waitForHttp(url, { timeoutMs: 5000, intervalMs: 10 });
    expect(response.status).toBe(200);
    expect(calls).toBe(3);
    await expect(waitForHttp(url, { timeoutMs: 100, intervalMs: 10, expectStatus: 204 })).rejects.toThrow(
      /last failure: status 200: ok/,
    );
  });
});
