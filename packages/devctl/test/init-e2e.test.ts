// `devctl init --no-samples` end to end, as a new user's first minutes go: the new project (moved
// to free ports) installs, builds and starts healthy under PM2 (a private PM2_HOME) with devctl,
// the gateway's and the frontend's tests pass, the kit is kept whole, and `devctl new service
// --route` works in it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPm2Home, freePort, type Pm2Home } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  devctl,
  initProject,
  install,
  moveToFreePorts,
  type Project,
  run,
  said,
  servicesKeptWithoutSamples,
  templateRoot,
  unusedServiceName,
} from './scaffold-helpers';

const MINUTES = 60_000;
/**
 * Appended to `pnpm typecheck` (tsc --noEmit, TypeScript 7): the same diagnostics from one checker
 * instead of several, each of which checks the shared declarations (node, fastify, react) again:
 * ~40 % less CPU for a service (2.5 -> 1.5 CPU-s, cgroup cpuacct), and `pnpm test` is CPU-bound.
 */
const SINGLE_THREADED = ['--singleThreaded'];

interface HealthReport {
  status: string;
  down: string[];
  services: Record<string, { status: string }>;
}

describe('a project made by devctl init --no-samples', () => {
  let project: Project;
  let pm2: Pm2Home;
  let gatewayUrl: string;
  const projectDevctl = (args: string[], timeoutMs = 4 * MINUTES) =>
    devctl(project.root, args, {
      bin: join(project.root, 'packages/devctl/bin/devctl.js'),
      env: pm2.env,
      timeoutMs,
    });

  beforeAll(async () => {
    project = await initProject('fresh-app', ['--no-samples']);
    const ports = await moveToFreePorts(project.root);
    gatewayUrl = `http://127.0.0.1:${ports['api-gateway']}`;
    pm2 = createPm2Home('pm2-init-e2e-');
    await install(project.root);
  }, 5 * MINUTES);

  // A bound, not a timing: this hook (the PM2 daemon's kill, then removing the project with its
  // node_modules) took over a minute once under load (~40 on 2 cores).
  afterAll(async () => {
    await pm2?.cleanup();
    project?.cleanup();
  }, 3 * MINUTES);

  // The first three tests read the project and touch nothing the others use (the stack runs on its
  // own ports; the packages' tests, type checks and the browser test run from sources): they run at
  // once. The last one adds a service to the project and installs, so it runs after them.
  it.concurrent(
    'starts healthy under PM2 with devctl, and /api/health reports only the gateway (and services of the checkout that need no sample)',
    async ({ expect }) => {
      const started = await projectDevctl(['start', '--wait']);
      expect(started.code, said(started)).toBe(0);
      expect(started.stdout).toMatch(/api-gateway\s+started, healthy/);
      const health = await fetch(`${gatewayUrl}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', service: 'api-gateway' });
      const report = (await (await fetch(`${gatewayUrl}/api/health`)).json()) as HealthReport;
      expect(report).toMatchObject({ status: 'ok', down: [] });
      // Only the gateway in the template; a checkout's own services that need no sample stay too.
      expect(Object.keys(report.services).sort()).toEqual(servicesKeptWithoutSamples(templateRoot).sort());
    },
    6 * MINUTES,
  );

  it.concurrent(
    "passes the gateway's tests and type check, and keeps the service kit as it is",
    async ({ expect }) => {
      const gateway = join(project.root, 'services/api-gateway');
      const tests = await run('pnpm', ['test'], { cwd: gateway, timeoutMs: 4 * MINUTES });
      expect(tests.code, said(tests)).toBe(0);
      expect(tests.stdout).toMatch(/Tests\s+\d+ passed/);
      // The kit and the workspace packages it depends on are copied unchanged, so the kit's own
      // tests in this repository (`pnpm test` runs them) prove it in the project too; running them
      // again here only cost time. A file init dropped or rewrote would break that: every tracked
      // file of those packages must be there, equal. (test-utils is no copy: init rewrites parts.)
      const kit = JSON.parse(readFileSync(join(templateRoot, 'packages/service-kit/package.json'), 'utf8'));
      const kitWorkspaceDependencies = Object.entries({ ...kit.dependencies, ...kit.devDependencies })
        .filter(([, version]) => String(version).startsWith('workspace:'))
        .map(([name]) => `packages/${name.replace('@repo/', '')}`);
      const tracked = execFileSync('git', ['ls-files', 'packages/service-kit', ...kitWorkspaceDependencies], {
        cwd: templateRoot,
        encoding: 'utf8',
      })
        .split('\n')
        .filter((path) => path !== '' && existsSync(join(templateRoot, path)));
      expect(tracked.length).toBeGreaterThan(10);
      const differing = tracked.filter((path) => {
        const copy = join(project.root, path);
        return !existsSync(copy) || !readFileSync(copy).equals(readFileSync(join(templateRoot, path)));
      });
      expect(differing, 'files of the kit missing or changed in the project').toEqual([]);
      // The gateway's app.ts and config.ts come from devctl's templates: they must fit the files kept.
      const types = await run('pnpm', ['typecheck', ...SINGLE_THREADED], { cwd: gateway });
      expect(types.code, said(types)).toBe(0);
    },
    9 * MINUTES,
  );

  it.concurrent(
    "passes the frontend's type check, component tests and hot-reload browser test without the forms pages",
    async ({ expect }) => {
      const web = join(project.root, 'apps/web');
      // App.tsx and its test come from devctl's templates: they must fit the shell kept.
      const types = await run('pnpm', ['typecheck', ...SINGLE_THREADED], { cwd: web });
      expect(types.code, said(types)).toBe(0);
      // `pnpm test`, as the project's own `pnpm test` runs it: one vitest process for both kinds of
      // test (components in jsdom, then the browser test) instead of one per kind, which paid
      // vitest's start twice.
      const tests = await run('pnpm', ['test'], { cwd: web, timeoutMs: 6 * MINUTES });
      expect(tests.code, said(tests)).toBe(0);
      expect(tests.stdout).toMatch(/✓ \|components\| src\/App\.test\.tsx \(\d+ tests\)/);
      expect(tests.stdout).toMatch(/✓ \|e2e\| e2e\/hot-reload\.test\.ts \(1 test\)/);
      expect(tests.stdout).toMatch(/Test Files\s+2 passed \(2\)/);
    },
    9 * MINUTES,
  );

  it(
    'grows with devctl new service: the new route answers through the gateway under PM2',
    async () => {
      // hello, unless this checkout has one already (then hello2, ...).
      const hello = unusedServiceName(templateRoot, 'hello');
      const port = await freePort();
      const created = await projectDevctl([
        'new',
        'service',
        hello,
        '--route',
        `/api/${hello}`,
        // A lean project has no service that issues tokens: its first route is opened on purpose
        // (the default, bearer, is checked by scaffold-e2e).
        '--auth',
        'public',
        '--port',
        String(port),
      ]);
      expect(created.code, said(created)).toBe(0);
      await install(project.root);
      const started = await projectDevctl(['start', `${hello}-service`, '--wait']);
      expect(started.code, said(started)).toBe(0);
      // The gateway reads routes/generated.ts at start: restart it, as the printed next step says.
      const restarted = await projectDevctl(['restart', 'api-gateway', '--wait']);
      expect(restarted.code, said(restarted)).toBe(0);
      const posted = await fetch(`${gatewayUrl}/api/${hello}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'first' }),
      });
      expect(posted.status, await posted.clone().text()).toBe(201);
      const report = (await (await fetch(`${gatewayUrl}/api/health`)).json()) as HealthReport;
      expect(report.services[`${hello}-service`]?.status).toBe('ok');
      // A service without dependencies: its own tests and types.
      for (const script of [['test'], ['typecheck', ...SINGLE_THREADED]]) {
        const result = await run('pnpm', script, {
          cwd: join(project.root, `services/${hello}`),
          timeoutMs: 3 * MINUTES,
        });
        expect(result.code, `${script.join(' ')}: ${said(result)}`).toBe(0);
      }
    },
    8 * MINUTES,
  );
});
