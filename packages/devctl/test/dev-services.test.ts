// `devctl dev --services` as a user runs it: the real CLI, a fixture project of two TypeScript
// services on free ports, real tsx watch processes through concurrently, a real PM2 daemon in a
// private PM2_HOME for the refusal.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createPm2Home,
  freePorts,
  isAlive,
  processTree,
  type SpawnedProcess,
  spawnProcess,
  type TempDir,
  tempDir,
  waitForHttp,
} from '@repo/test-utils';
import { describe, expect, it, onTestFinished } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..', '..');
// The tsx every service of the repository uses; the fixture services link to it.
const tsxPackage = dirname(
  createRequire(join(repoRoot, 'services', 'form', 'package.json')).resolve('tsx/package.json'),
);
const pm2Bin = join(repoRoot, 'node_modules', 'pm2', 'bin', 'pm2');

// The real bin, as users run it: the global setup built dist/ once (and the bin rebuilds it
// atomically when a source is newer), so no test bundles its own copy of the CLI (an esbuild run
// per file, and an unbundled ESM start without V8's code cache at every spawn).
const devctlBin = join(packageDir, 'bin', 'devctl.js');

const serviceSource = (version: string) => `import { createServer } from 'node:http';

const version: string = '${version}';
const server = createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(
    JSON.stringify({
      version,
      port: process.env.PORT,
      logFormat: process.env.LOG_FORMAT,
      nodeEnv: process.env.NODE_ENV,
      greeting: process.env.GREETING,
      pid: process.pid,
    }),
  );
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface Fixture {
  dir: TempDir;
  ports: { alpha: number; beta: number };
  namespace: string;
}

/** A project of two services (alpha, beta), each a TypeScript HTTP server, on free ports. */
async function createFixture(): Promise<Fixture> {
  const dir = tempDir('devctl-dev-services-');
  const [alpha, beta] = (await freePorts(2)) as [number, number];
  const namespace = `dev-services-test-${process.pid}`;
  writeFileSync(join(dir.path, 'package.json'), '{ "private": true }\n');
  const app = (name: string, folder: string, port: number) => `{
    name: '${name}', namespace: '${namespace}', cwd: path.join(__dirname, 'services', '${folder}'),
    script: 'src/server.cjs', env: { NODE_ENV: 'development', PORT: '${port}', GREETING: 'hello from the ecosystem' },
  }`;
  writeFileSync(
    join(dir.path, 'ecosystem.config.js'),
    `const path = require('node:path');\nmodule.exports = { apps: [${app('alpha-service', 'alpha', alpha)}, ${app('beta-service', 'beta', beta)}] };\n`,
  );
  for (const folder of ['alpha', 'beta']) {
    const serviceDir = join(dir.path, 'services', folder);
    mkdirSync(join(serviceDir, 'src'), { recursive: true });
    mkdirSync(join(serviceDir, 'node_modules'));
    symlinkSync(realpathSync(tsxPackage), join(serviceDir, 'node_modules', 'tsx'));
    // What pnpm puts on PATH for a devDependency: node_modules/.bin/tsx.
    mkdirSync(join(serviceDir, 'node_modules', '.bin'));
    symlinkSync('../tsx/dist/cli.mjs', join(serviceDir, 'node_modules', '.bin', 'tsx'));
    writeFileSync(
      join(serviceDir, 'package.json'),
      `{ "name": "${folder}", "private": true, "type": "module" }\n`,
    );
    writeFileSync(join(serviceDir, 'src', 'index.ts'), serviceSource('v1'));
    // What PM2 runs in the refusal test (PM2 would not run the .ts entry as is).
    writeFileSync(
      join(serviceDir, 'src', 'server.cjs'),
      "require('node:http').createServer((q, s) => s.end('pm2')).listen(Number(process.env.PORT), '127.0.0.1');\n",
    );
  }
  return { dir, ports: { alpha, beta }, namespace };
}

function runDevServices(fixture: Fixture, extraEnv: Record<string, string> = {}): SpawnedProcess {
  const child = spawnProcess(process.execPath, [devctlBin, 'dev', '--services'], {
    cwd: fixture.dir.path,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DEVCTL_ROOT: fixture.dir.path,
      NO_COLOR: '1',
      // Shell values that must not win over the ecosystem's.
      NODE_ENV: 'production',
      ...extraEnv,
    },
    name: 'devctl dev --services',
  });
  onTestFinished(() => child.kill('SIGKILL'));
  return child;
}

/** A service started from its TypeScript by tsx watch can take well over 15 s on a loaded machine. */
async function health(port: number): Promise<Record<string, unknown>> {
  const answer = await waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 45_000 });
  return (await answer.json()) as Record<string, unknown>;
}

describe('devctl dev --services', () => {
  it('runs every service from source with the ecosystem env and LOG_FORMAT=pretty, reloads on save, stops on SIGINT', async () => {
    const fixture = await createFixture();
    const pm2 = createPm2Home();
    onTestFinished(async () => {
      await pm2.cleanup();
      fixture.dir.cleanup();
    });
    const devctl = runDevServices(fixture, pm2.env);

    const alpha = await health(fixture.ports.alpha);
    const beta = await health(fixture.ports.beta);
    expect(alpha).toMatchObject({
      version: 'v1',
      port: String(fixture.ports.alpha),
      logFormat: 'pretty',
      nodeEnv: 'development',
      greeting: 'hello from the ecosystem',
    });
    expect(beta).toMatchObject({ version: 'v1', port: String(fixture.ports.beta), logFormat: 'pretty' });
    // Each line carries its service's name (padded to the longest).
    await devctl.waitForOutput(`[alpha-service] listening on ${fixture.ports.alpha}`);
    await devctl.waitForOutput(`[beta-service ] listening on ${fixture.ports.beta}`);
    const tree = processTree(devctl.pid);
    expect(tree).toContain(alpha.pid);

    // Saving a file reruns that service, on the same port, with the new code.
    writeFileSync(join(fixture.dir.path, 'services', 'alpha', 'src', 'index.ts'), serviceSource('v2'));
    const deadline = Date.now() + 30_000;
    let reloaded = alpha;
    while (reloaded.version !== 'v2' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      reloaded = await health(fixture.ports.alpha).catch(() => reloaded);
    }
    expect(reloaded.version).toBe('v2');
    expect(reloaded.pid).not.toBe(alpha.pid);
    expect((await health(fixture.ports.beta)).pid).toBe(beta.pid);

    devctl.child.kill('SIGINT');
    const { code } = await devctl.exited;
    expect(code).toBe(0);
    const survivors = [...tree, reloaded.pid as number].filter(isAlive);
    expect(survivors).toEqual([]);
  }, 180_000);

  it('refuses when something listens on a service port, naming the service, the port and the holder', async () => {
    const fixture = await createFixture();
    const pm2 = createPm2Home();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(fixture.ports.beta, '127.0.0.1', resolve));
    onTestFinished(async () => {
      await new Promise((resolve) => blocker.close(resolve));
      await pm2.cleanup();
      fixture.dir.cleanup();
    });

    const devctl = runDevServices(fixture, pm2.env);
    const { code } = await devctl.exited;
    const output = devctl.output();
    expect(code).toBe(1);
    expect(output).toContain('cannot run the backends in watch mode');
    expect(output).toContain(
      `beta-service (port ${fixture.ports.beta}): port ${fixture.ports.beta} is held by pid ${process.pid}`,
    );
    expect(output).toContain(`kill ${process.pid}`);
    expect(output).not.toContain('alpha-service (port');
    // Nothing was started: alpha's port stays closed.
    await expect(fetch(`http://127.0.0.1:${fixture.ports.alpha}/`)).rejects.toThrow();
  });

  it('says which service lacks tsx and how to add it, before starting anything', async () => {
    const fixture = await createFixture();
    const pm2 = createPm2Home();
    onTestFinished(async () => {
      await pm2.cleanup();
      fixture.dir.cleanup();
    });
    rmSync(join(fixture.dir.path, 'services', 'beta', 'node_modules'), { recursive: true });

    const devctl = runDevServices(fixture, pm2.env);
    const { code } = await devctl.exited;
    expect(code).toBe(1);
    expect(devctl.output()).toContain(
      'tsx is not installed for beta-service (services/beta); add it with: pnpm --filter ./services/beta add -D tsx',
    );
    await expect(fetch(`http://127.0.0.1:${fixture.ports.alpha}/`)).rejects.toThrow();
  });

  it('refuses when PM2 already runs the services, and says to run pnpm pm2:stop', async () => {
    const fixture = await createFixture();
    const pm2 = createPm2Home();
    onTestFinished(async () => {
      await pm2.cleanup();
      fixture.dir.cleanup();
    });
    const pm2Env = { PATH: process.env.PATH, HOME: process.env.HOME, ...pm2.env };
    execFileSync(
      process.execPath,
      [pm2Bin, 'start', join(fixture.dir.path, 'ecosystem.config.js'), '--only', 'alpha-service'],
      {
        cwd: fixture.dir.path,
        env: pm2Env,
        stdio: 'ignore',
        timeout: 30_000,
      },
    );
    await waitForHttp(`http://127.0.0.1:${fixture.ports.alpha}/`);

    const devctl = runDevServices(fixture, pm2.env);
    const { code } = await devctl.exited;
    const output = devctl.output();
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(
        `alpha-service \\(port ${fixture.ports.alpha}\\): PM2 runs it \\(online, pid \\d+\\); port ${fixture.ports.alpha} is held by pid \\d+ .*run by a PM2 daemon`,
      ),
    );
    expect(output).toContain('pnpm pm2:stop');
    expect(output).not.toContain('beta-service (port');
    // PM2 still serves alpha: the refusal touched nothing.
    expect(await (await fetch(`http://127.0.0.1:${fixture.ports.alpha}/`)).text()).toBe('pm2');
    expect(readFileSync(join(fixture.dir.path, 'services', 'alpha', 'src', 'index.ts'), 'utf8')).toContain(
      "'v1'",
    );
  });
});
