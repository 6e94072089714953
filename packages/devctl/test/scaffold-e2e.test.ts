// `devctl new service` end to end, as the newcomer's walk-through (docs/new-service.md) goes: in a
// project made from this repository (moved to free ports), create billing with a gateway route
// (bearer, the default) and a dependency, install, run its own test and type check, then the
// project's own checks that read the lists of services (the gateway's tests, the whole-stack test
// with the eighth service, the docs' tables, turbo's build order); then start it under PM2 (a
// private PM2_HOME), call it directly and through the gateway as the printed next steps say; then
// `devctl remove service billing --yes` gives back every file it edited. The checks that need no
// stack run before PM2 starts anything: an idle daemon and its services still burn CPU, and
// `pnpm test` is CPU-bound.
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { localServiceUrl, serviceUrlVariable } from '@repo/stack-contract';
import { createPm2Home, freePort, type Pm2Home, spawnProcess, waitForHttp } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { REGISTRY_FILE } from '../src/scaffold/gateway-text';
import {
  devctl,
  initProject,
  install,
  moveToFreePorts,
  type Project,
  run,
  said,
  templateRoot,
  unusedServiceName,
} from './scaffold-helpers';

const MINUTES = 60_000;
/**
 * The service this walk-through creates: billing, unless this checkout has one already (a user's
 * project that made it) -- then billing2, ... -- so it checks the same things in every checkout.
 */
const fresh = unusedServiceName(templateRoot, 'billing');
/** Appended to `pnpm typecheck` (tsc --noEmit): the same diagnostics, one checker; see init-e2e. */
const SINGLE_THREADED = ['--singleThreaded'];

/** An HS256 JWT as auth-service issues it (the gateway checks only signature, issuer and exp). */
function signToken(secret: string, issuer: string, sub: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, email: `${sub}@example.test`, iss: issuer, iat: now, exp: now + 600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** The task ids of turbo's last run in `root`, from the summary `--summarize` wrote. */
function builtTasks(root: string): string[] {
  const folder = join(root, '.turbo/runs');
  const newest = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ name, time: statSync(join(folder, name)).mtimeMs }))
    .sort((a, b) => b.time - a.time)[0];
  if (!newest) throw new Error(`no run summary in ${folder}`);
  const summary = JSON.parse(readFileSync(join(folder, newest.name), 'utf8')) as {
    tasks: { taskId: string }[];
  };
  return summary.tasks.map((task) => task.taskId);
}

describe(`devctl new service ${fresh} --route /api/${fresh} --depends-on data-service`, () => {
  let project: Project;
  let pm2: Pm2Home;
  let ports: Record<string, number>;
  let billingPort: number;
  const file = (path: string) => readFileSync(join(project.root, path), 'utf8');
  const before: Record<string, string> = {};
  // Every file new service edits; remove service must give each back byte for byte.
  const tracked = [
    'ecosystem.config.js',
    REGISTRY_FILE,
    'services/api-gateway/.env.example',
    'README.md',
    'AGENTS.md',
    'packages/stack-tests/package.json',
    'packages/reliability-tests/package.json',
  ];
  // The project's own devctl, installed by pnpm, as `pnpm devctl` runs it.
  const projectDevctl = (args: string[], timeoutMs = 4 * MINUTES) =>
    devctl(project.root, args, {
      bin: join(project.root, 'packages/devctl/bin/devctl.js'),
      env: pm2.env,
      timeoutMs,
    });

  // The ports the project's services get are picked minutes before PM2 starts them (the checks
  // that need no stack run first): a test running in parallel took one in between once (its own
  // fixture service listened on billing's port). Each is held by a listener of this test from the
  // moment it is written into the project until just before the start.
  const holders: Server[] = [];
  const hold = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        holders.push(server);
        resolve();
      });
    });
  const releasePorts = () =>
    Promise.all(holders.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));

  beforeAll(async () => {
    project = await initProject('newsvc-e2e');
    ports = await moveToFreePorts(project.root);
    for (const port of Object.values(ports)) await hold(port);
    for (const path of tracked) before[path] = file(path);
    pm2 = createPm2Home('pm2-scaffold-e2e-');
    billingPort = await freePort();
  }, 2 * MINUTES);

  // A bound, not a timing: removing the project's node_modules took over a minute under load.
  afterAll(async () => {
    await releasePorts();
    // Kills this test's PM2 daemon and every process under it, by pid.
    await pm2?.cleanup();
    project?.cleanup();
  }, 3 * MINUTES);

  it(
    'creates the service and writes it into every list of services; the project installs it',
    async () => {
      const created = await devctl(project.root, [
        'new',
        'service',
        fresh,
        '--route',
        `/api/${fresh}`,
        '--depends-on',
        'data-service',
        '--port',
        String(billingPort),
        '--json',
      ]);
      expect(created.code, said(created)).toBe(0);
      // new service checked the port was free; from now on it is the service's.
      await hold(billingPort);
      const result = JSON.parse(created.stdout);
      expect(result.service).toEqual({
        name: fresh,
        pm2Name: `${fresh}-service`,
        package: `@repo/${fresh}`,
        folder: `services/${fresh}`,
        port: billingPort,
        url: `http://127.0.0.1:${billingPort}`,
        dependsOn: ['data-service'],
        route: `/api/${fresh}`,
        auth: 'bearer',
      });
      expect(result.nextSteps.slice(0, 2)).toEqual([
        'pnpm install',
        `pnpm devctl start ${fresh}-service --wait`,
      ]);
      // The gateway step is about its /health (which the service keeps), not an example route.
      expect(result.nextSteps).toContain('pnpm devctl restart api-gateway --wait');
      expect(result.nextSteps.join('\n')).toMatch(
        new RegExp(`curl -i http://127\\.0\\.0\\.1:\\d+/api/${fresh}/health .*401`),
      );
      expect(result.files).toEqual(expect.arrayContaining(tracked));
      for (const path of ['README.md', 'AGENTS.md'])
        expect(file(path), path).toMatch(
          new RegExp(`\\| ${fresh}-service +\\| services/${fresh} +\\| ${billingPort} `),
        );
      for (const path of ['packages/stack-tests/package.json', 'packages/reliability-tests/package.json'])
        expect(JSON.parse(file(path)).devDependencies[`@repo/${fresh}`], path).toBe('workspace:*');
      expect(file('ecosystem.config.js')).toContain(
        `service('${fresh}-service', '${fresh}', ${billingPort}, ['data-service']),`,
      );
      expect(file(`services/${fresh}/.env.example`)).toContain(
        `DATA_SERVICE_URL=http://127.0.0.1:${ports['data-service']}`,
      );

      await install(project.root);
    },
    6 * MINUTES,
  );

  it(
    `passes its own test and type check, and the project's own checks that read the lists of services, with ${fresh} in them`,
    async () => {
      // Unit tests (app.inject) and types: nothing here needs the stack, so all of this runs before
      // PM2 starts anything (its daemon and services idle at some CPU for as long as they run).
      const tests = await run('pnpm', ['test'], {
        cwd: join(project.root, `services/${fresh}`),
        timeoutMs: 3 * MINUTES,
      });
      expect(tests.code, said(tests)).toBe(0);
      expect(tests.stdout).toMatch(/Tests\s+\d+ passed/);
      const types = await run('pnpm', ['typecheck', ...SINGLE_THREADED], {
        cwd: join(project.root, `services/${fresh}`),
      });
      expect(types.code, said(types)).toBe(0);

      // turbo builds billing before the frontend's tests: the web tests wait for
      // @repo/stack-tests#build (no list of services in a turbo.json), whose dependencies are the
      // services -- the stack build below shows billing's build is one of them. (A dry run of the
      // web tests hashed the whole uncommitted copy a second time: a minute here.)
      const webTurbo = JSON.parse(readFileSync(join(project.root, 'apps/web/turbo.json'), 'utf8')) as {
        tasks: { test: { dependsOn: string[] } };
      };
      expect(webTurbo.tasks.test.dependsOn).toContain('@repo/stack-tests#build');

      // The whole stack, eight services as real processes on free ports: GET /api/health must
      // list every backend of the ecosystem, billing included. One turbo run builds all of it, the
      // gateway with billing's route (run from dist/ below) and billing itself (so the start under
      // PM2 that follows takes both from turbo's cache, as a second `pm2:start` does).
      const build = await run(
        join(project.root, 'node_modules/.bin/turbo'),
        ['run', 'build', '--filter=@repo/stack-tests...', '--output-logs=errors-only', '--summarize'],
        { cwd: project.root, timeoutMs: 6 * MINUTES },
      );
      expect(build.code, said(build)).toBe(0);
      expect(builtTasks(project.root)).toEqual(
        expect.arrayContaining([`@repo/${fresh}#build`, '@repo/api-gateway#build']),
      );
      // The gateway's tests that read its configured backends and its registry. After the build: the
      // ones that start the gateway as a process run its fresh dist/ (test-utils' serviceEntry), a
      // third of tsx's start-up CPU.
      const gatewayTests = await run(
        'pnpm',
        [
          'exec',
          'vitest',
          'run',
          'test/generated-routes.test.ts',
          'test/process.test.ts',
          'test/health.test.ts',
          'test/config.test.ts',
        ],
        { cwd: join(project.root, 'services/api-gateway'), timeoutMs: 4 * MINUTES },
      );
      expect(gatewayTests.code, said(gatewayTests)).toBe(0);
      const gatewayTypes = await run('pnpm', ['typecheck', ...SINGLE_THREADED], {
        cwd: join(project.root, 'services/api-gateway'),
      });
      expect(gatewayTypes.code, said(gatewayTypes)).toBe(0);

      // The docs' tables name every service of the ecosystem. After the build: devctl's global setup
      // then finds its dashboard built (turbo built devctl) instead of building it with vite first,
      // only for turbo's clean build to build it again.
      const lists = await run('pnpm', ['exec', 'vitest', 'run', 'test/service-lists.test.ts'], {
        cwd: join(project.root, 'packages/devctl'),
        timeoutMs: 2 * MINUTES,
      });
      expect(lists.code, said(lists)).toBe(0);

      const stackTests = await run('pnpm', ['exec', 'vitest', 'run', '-t', 'GET /api/health'], {
        cwd: join(project.root, 'packages/stack-tests'),
        timeoutMs: 6 * MINUTES,
      });
      expect(stackTests.code, said(stackTests)).toBe(0);
      expect(stackTests.stdout).toMatch(/Tests\s+1 passed/);
    },
    15 * MINUTES,
  );

  it(
    'starts healthy under PM2 after its dependency, and answers directly and through the gateway (bearer)',
    async () => {
      await releasePorts();
      const started = await projectDevctl(['start', `${fresh}-service`, '--wait']);
      expect(started.code, said(started)).toBe(0);
      // Its dependency came first.
      expect(started.stdout).toMatch(new RegExp(`data-service[\\s\\S]*${fresh}-service`));

      const health = await fetch(`http://127.0.0.1:${billingPort}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', service: `${fresh}-service` });
      const ready = await fetch(`http://127.0.0.1:${billingPort}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { 'data-service': { ok: true } } });

      // The gateway, built above and run as PM2 runs it, with every upstream at its moved port.
      // Its port is picked now, not with the others minutes ago: in between, a test running in
      // parallel could take a port nobody held, and this request reached that test's gateway.
      const gatewayPort = await freePort();
      const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      const jwtSecret = 'scaffold-e2e-secret-scaffold-e2e-secret';
      const gateway = spawnProcess(process.execPath, ['--enable-source-maps', 'dist/index.js'], {
        cwd: join(project.root, 'services/api-gateway'),
        name: 'api-gateway',
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          PORT: String(gatewayPort),
          JWT_SECRET: jwtSecret,
          ...Object.fromEntries(
            Object.entries(ports).map(([name, port]) => [serviceUrlVariable(name), localServiceUrl(port)]),
          ),
        },
      });
      onTestFinished(() => gateway.kill());
      await waitForHttp(`${gatewayUrl}/health`, { timeoutMs: 30_000 });
      const answering = (await (await fetch(`${gatewayUrl}/health`)).json()) as { pid?: number };
      expect(answering.pid, 'the gateway answering is the one this test started').toBe(gateway.pid);
      // bearer by default: no token, 401 from the gateway (the service never sees it); with a token
      // signed by JWT_SECRET and the project's issuer, through.
      const refused = await fetch(`${gatewayUrl}/api/${fresh}/health`);
      expect(refused.status, await refused.clone().text()).toBe(401);
      const issuer = /ISSUER = '([^']+)'/.exec(
        file('services/api-gateway/src/authenticate.ts'),
      )?.[1] as string;
      const authorization = `Bearer ${signToken(jwtSecret, issuer, 'user-1')}`;
      const throughHealth = await fetch(`${gatewayUrl}/api/${fresh}/health`, { headers: { authorization } });
      expect(await throughHealth.json()).toMatchObject({ status: 'ok', service: `${fresh}-service` });
      const posted = await fetch(`${gatewayUrl}/api/${fresh}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ name: 'pen' }),
      });
      expect(posted.status, await posted.clone().text()).toBe(201);
      expect(posted.headers.get('x-upstream')).toBe(`${fresh}-service`);
      const listed = (await (
        await fetch(`${gatewayUrl}/api/${fresh}/items`, { headers: { authorization } })
      ).json()) as {
        items: { name: string }[];
      };
      expect(listed.items.map((item) => item.name)).toEqual(['pen']);
      const report = (await (await fetch(`${gatewayUrl}/api/health`)).json()) as {
        services: Record<string, { status: string }>;
      };
      expect(report.services[`${fresh}-service`]?.status).toBe('ok');
    },
    8 * MINUTES,
  );

  it(
    `remove service ${fresh} --yes deletes it from PM2 and gives back the ecosystem, the registry and .env.example exactly`,
    async () => {
      const removed = await projectDevctl(['remove', 'service', fresh, '--yes']);
      expect(removed.code, said(removed)).toBe(0);
      expect(removed.stdout).toContain(`${fresh}-service: deleted from PM2 (it was online)`);
      for (const path of tracked) expect(file(path), path).toBe(before[path]);
      await expect(fetch(`http://127.0.0.1:${billingPort}/health`)).rejects.toThrow();
      const status = await projectDevctl(['status', '--json'], MINUTES);
      expect(status.stdout).not.toContain(`${fresh}-service`);
      expect(status.stdout).toContain('data-service');
    },
    3 * MINUTES,
  );
});
