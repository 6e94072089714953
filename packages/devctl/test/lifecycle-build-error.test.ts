// A service that does not build, at restart and in diagnose, on a real PM2 daemon: a fixture
// service bundled by the real service-build (esbuild), broken by a syntax error, an import of a
// package it never declared, and one it declares but that is not installed. Each time: the
// message, the repository-relative file:line:column and the next step in at most a dozen lines,
// none of esbuild's stack, the running process untouched; `diagnose` names the same finding.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture, packageDir, parseJson } from './fixtures/harness';
import { nameOf, pm2Processes } from './fixtures/pm2-list';

const serviceBuild = join(packageDir, '..', 'service-kit', 'bin', 'service-build.mjs');

const GOOD = `import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const server = createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.statusCode = request.url === '/health' ? 200 : 404;
  response.end(JSON.stringify(request.url === '/health' ? { status: 'ok' } : { message: 'not found' }));
});
server.listen(port, '127.0.0.1', () => {
  console.log(\`svc listening on \${port}\`);
  process.send?.('ready');
});
process.on('SIGINT', () => server.close(() => process.exit(0)));
`;

interface Finding {
  kind: string;
  service: string;
  location: { file: string; line: number; column: number } | null;
  next: string;
}

describe('a service that does not build, at restart and in diagnose', () => {
  let fixture: Fixture;
  const devctl = (args: string[]) =>
    fixture.devctl(args, { env: { npm_config_registry: 'http://127.0.0.1:9/' } });
  const source = () => join(fixture.dir('svc'), 'src', 'index.ts');
  /** svc as PM2 runs it, asked on the daemon's socket (not a devctl process per look). */
  const status = async () => {
    const svc = (await pm2Processes(fixture.home.home)).find((p) => nameOf(p) === 'svc');
    return svc && { status: svc.pm2_env?.status, pid: svc.pid };
  };

  beforeAll(async () => {
    fixture = await createFixture([{ name: 'svc', app: { script: 'dist/index.js' } }]);
    mkdirSync(join(fixture.dir('svc'), 'src'), { recursive: true });
    writeFileSync(
      join(fixture.dir('svc'), 'package.json'),
      JSON.stringify({
        name: '@fixture/svc',
        private: true,
        scripts: { build: `node ${serviceBuild} src/index.ts` },
        dependencies: { 'declared-but-absent': '1.0.0' },
      }),
    );
    // pnpm 12 installs a package's dependencies before `pnpm run` unless told not to; the declared
    // package must stay absent, and no registry is ever asked (a dead registry address below).
    writeFileSync(join(fixture.dir('svc'), 'pnpm-workspace.yaml'), 'verifyDepsBeforeRun: false\n');
    writeFileSync(source(), GOOD);
    const started = await devctl(['start', 'svc', '--wait']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  /** Restarts with `broken` as the source; checks the report and that the old process still runs. */
  async function restartBroken(broken: string): Promise<string> {
    const before = await status();
    writeFileSync(source(), broken);
    const result = await devctl(['restart', 'svc', '--wait']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(12);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).toContain(
      'build failed for svc; nothing was restarted (a running process keeps running)',
    );
    const after = await status();
    expect(after).toMatchObject({ status: 'online', pid: before?.pid });
    return result.stderr;
  }

  async function diagnoseFinding(): Promise<Finding | undefined> {
    const result = await devctl(['diagnose', 'svc', '--json']);
    return parseJson<{ findings: Finding[] }>(result).findings.find((f) => f.kind === 'build-error');
  }

  it('a syntax error: the repository-relative place and the file to fix', async () => {
    const broken = GOOD.replace('const port = Number(process.env.PORT);', 'const port = ;');
    const line = broken.split('\n').findIndex((l) => l.includes('const port = ;')) + 1;
    const stderr = await restartBroken(broken);
    expect(stderr).toContain(`svc: services/svc/src/index.ts:${line}:14: Unexpected ";"`);
    expect(stderr).toContain(
      `next: fix services/svc/src/index.ts:${line}:14, then devctl restart svc --wait`,
    );
    const finding = await diagnoseFinding();
    expect(finding).toMatchObject({
      service: 'svc',
      location: { file: 'services/svc/src/index.ts', line, column: 14 },
    });
  });

  it('an import of a package the service never declared: pnpm --filter <pkg> add', async () => {
    const stderr = await restartBroken(`import pad from 'left-pad';\nconsole.log(pad);\n${GOOD}`);
    expect(stderr).toContain('services/svc/src/index.ts:1:17: Could not resolve "left-pad"');
    expect(stderr).toContain('next: pnpm --filter @fixture/svc add left-pad');
    expect((await diagnoseFinding())?.next).toContain('pnpm --filter @fixture/svc add left-pad');
  });

  it('an import of a declared package that is not installed: pnpm install', async () => {
    const stderr = await restartBroken(
      `import absent from 'declared-but-absent';\nconsole.log(absent);\n${GOOD}`,
    );
    expect(stderr).toContain('Could not resolve "declared-but-absent"');
    expect(stderr).toContain(
      'next: pnpm install (declared-but-absent is declared in services/svc/package.json',
    );
  });

  it('once fixed, restart --wait takes and diagnose has no build finding', async () => {
    writeFileSync(source(), GOOD);
    const result = await devctl(['restart', 'svc', '--wait']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('✓ verdict: healthy');
    expect(await diagnoseFinding()).toBeUndefined();
    expect(readFileSync(join(fixture.dir('svc'), 'dist', 'index.js'), 'utf8')).toContain('listening on');
  });

  it('a check that passed is kept for the same sources; an edit after it is checked again', async () => {
    const cache = join(fixture.root, 'node_modules', '.cache', 'devctl', 'build-checks.json');
    const kept = () => {
      try {
        return (JSON.parse(readFileSync(cache, 'utf8')) as Record<string, string>).svc;
      } catch {
        return undefined;
      }
    };
    // Sources newer than the build that still build (an edit not restarted yet): checked once, kept.
    writeFileSync(source(), `${GOOD}// an edit that builds\n`);
    expect(await diagnoseFinding()).toBeUndefined();
    const signature = kept();
    expect(signature).toMatch(/^\d+(\.\d+)?:\d+(\.\d+)?:\d+$/);
    expect(await diagnoseFinding()).toBeUndefined();
    expect(kept()).toBe(signature);
    // A later edit that does not build is never hidden by the kept pass.
    writeFileSync(source(), GOOD.replace('const port = Number(process.env.PORT);', 'const port = ;'));
    expect((await diagnoseFinding())?.kind).toBe('build-error');
    writeFileSync(source(), GOOD);
  });
});
