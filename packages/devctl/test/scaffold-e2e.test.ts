// `devctl new service` end to end, as the newcomer's walk-through (docs/new-service.md) goes: in a
// project made from this repository (moved to free ports), create billing with a gateway route and
// a dependency, install, start it under PM2 (a private PM2_HOME), call it directly and through the
// gateway, run its own test; then `devctl remove service billing --yes` gives back every file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localServiceUrl, serviceUrlVariable } from '@repo/stack-contract';
import { createPm2Home, freePort, type Pm2Home, spawnProcess, waitForHttp } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { REGISTRY_FILE } from '../src/scaffold/gateway-text';
import { devctl, initProject, install, moveToFreePorts, type Project, run, said } from './scaffold-helpers';

const MINUTES = 60_000;

describe('devctl new service billing --route /api/billing --depends-on data-service', () => {
  let project: Project;
  let pm2: Pm2Home;
  let ports: Record<string, number>;
  let billingPort: number;
  const file = (path: string) => readFileSync(join(project.root, path), 'utf8');
  const before: Record<string, string> = {};
  const tracked = ['ecosystem.config.js', REGISTRY_FILE, 'services/api-gateway/.env.example'];
  // The project's own devctl, installed by pnpm, as `pnpm devctl` runs it.
  const projectDevctl = (args: string[], timeoutMs = 4 * MINUTES) =>
    devctl(project.root, args, {
      bin: join(project.root, 'packages/devctl/bin/devctl.js'),
      env: pm2.env,
      timeoutMs,
    });

  beforeAll(async () => {
    project = await initProject('newsvc-e2e');
    ports = await moveToFreePorts(project.root);
    for (const path of tracked) before[path] = file(path);
    pm2 = createPm2Home('pm2-scaffold-e2e-');
    billingPort = await freePort();
  }, 2 * MINUTES);

  afterAll(async () => {
    // Kills this test's PM2 daemon and every process under it, by pid.
    await pm2?.cleanup();
    project?.cleanup();
  });

  it(
    'creates the service, which installs, starts healthy under PM2, answers through the gateway and passes its test',
    async () => {
      const created = await devctl(project.root, [
        'new',
        'service',
        'billing',
        '--route',
        '/api/billing',
        '--depends-on',
        'data-service',
        '--port',
        String(billingPort),
        '--json',
      ]);
      expect(created.code, said(created)).toBe(0);
      const result = JSON.parse(created.stdout);
      expect(result.service).toEqual({
        name: 'billing',
        pm2Name: 'billing-service',
        package: '@repo/billing',
        folder: 'services/billing',
        port: billingPort,
        url: `http://127.0.0.1:${billingPort}`,
        dependsOn: ['data-service'],
        route: '/api/billing',
      });
      expect(result.nextSteps.slice(0, 2)).toEqual([
        'pnpm install',
        'pnpm devctl start billing-service --wait',
      ]);
      expect(file('ecosystem.config.js')).toContain(
        `service('billing-service', 'billing', ${billingPort}, ['data-service']),`,
      );
      expect(file('services/billing/.env.example')).toContain(
        `DATA_SERVICE_URL=http://127.0.0.1:${ports['data-service']}`,
      );

      await install(project.root);
      const started = await projectDevctl(['start', 'billing-service', '--wait']);
      expect(started.code, said(started)).toBe(0);
      // Its dependency came first.
      expect(started.stdout).toMatch(/data-service[\s\S]*billing-service/);

      const health = await fetch(`http://127.0.0.1:${billingPort}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', service: 'billing-service' });
      const ready = await fetch(`http://127.0.0.1:${billingPort}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { 'data-service': { ok: true } } });

      // The gateway, built and run as PM2 runs it, with every upstream at its moved port.
      const build = await run(
        join(project.root, 'node_modules/.bin/turbo'),
        ['run', 'build', '--filter=@repo/api-gateway...', '--output-logs=errors-only'],
        { cwd: project.root, timeoutMs: 4 * MINUTES },
      );
      expect(build.code, said(build)).toBe(0);
      // Its port is picked now, not with the others minutes ago: in between, a test running in
      // parallel could take a port nobody held, and this request reached that test's gateway.
      const gatewayPort = await freePort();
      const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      const gateway = spawnProcess(process.execPath, ['--enable-source-maps', 'dist/index.js'], {
        cwd: join(project.root, 'services/api-gateway'),
        name: 'api-gateway',
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          PORT: String(gatewayPort),
          JWT_SECRET: 'scaffold-e2e-secret-scaffold-e2e-secret',
          ...Object.fromEntries(
            Object.entries(ports).map(([name, port]) => [serviceUrlVariable(name), localServiceUrl(port)]),
          ),
        },
      });
      onTestFinished(() => gateway.kill());
      await waitForHttp(`${gatewayUrl}/health`, { timeoutMs: 30_000 });
      const answering = (await (await fetch(`${gatewayUrl}/health`)).json()) as { pid?: number };
      expect(answering.pid, 'the gateway answering is the one this test started').toBe(gateway.pid);
      const posted = await fetch(`${gatewayUrl}/api/billing/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pen' }),
      });
      expect(posted.status, await posted.clone().text()).toBe(201);
      const listed = (await (await fetch(`${gatewayUrl}/api/billing/items`)).json()) as {
        items: { name: string }[];
      };
      expect(listed.items.map((item) => item.name)).toEqual(['pen']);
      const report = (await (await fetch(`${gatewayUrl}/api/health`)).json()) as {
        services: Record<string, { status: string }>;
      };
      expect(report.services['billing-service']?.status).toBe('ok');

      const tests = await run('pnpm', ['test'], {
        cwd: join(project.root, 'services/billing'),
        timeoutMs: 3 * MINUTES,
      });
      expect(tests.code, said(tests)).toBe(0);
      expect(tests.stdout).toMatch(/Tests\s+\d+ passed/);
      const types = await run('pnpm', ['typecheck'], { cwd: join(project.root, 'services/billing') });
      expect(types.code, said(types)).toBe(0);
    },
    12 * MINUTES,
  );

  it(
    'remove service billing --yes deletes it from PM2 and gives back the ecosystem, the registry and .env.example exactly',
    async () => {
      const removed = await projectDevctl(['remove', 'service', 'billing', '--yes']);
      expect(removed.code, said(removed)).toBe(0);
      expect(removed.stdout).toContain('billing-service: deleted from PM2 (it was online)');
      for (const path of tracked) expect(file(path), path).toBe(before[path]);
      await expect(fetch(`http://127.0.0.1:${billingPort}/health`)).rejects.toThrow();
      const status = await projectDevctl(['status', '--json'], MINUTES);
      expect(status.stdout).not.toContain('billing-service');
      expect(status.stdout).toContain('data-service');
    },
    3 * MINUTES,
  );
});
