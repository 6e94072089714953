// The seven real services, twice: two copies of this checkout (the real ecosystem, the built
// services) started at the same moment by the real devctl in one PM2 daemon. Each gets its own
// block of ports and namespace; the README's flow (sign up, create a form, submit it) through each
// gateway lands only in that copy's database and outbox; stopping one leaves the other healthy.
// The registry is this file's own, blocks from DEVSTACK_FIRST_BLOCK (vitest.shared.ts): nothing
// here depends on, or lands on, the documented ports 3000-3006.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { readEcosystem } from '@repo/stack-contract';
import { createPm2Home, type Pm2Home, repoRoot, tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devctlBin, parseJson, type RunResult, runCommand, stackRegistryEnv } from './fixtures/harness';

const repo = repoRoot();
const services = readEcosystem(repo).services;

/** A copy as devctl runs it: the ecosystem (no log rotator), the identity module, each service's build. */
function copyCheckout(root: string): void {
  const identity = join('packages', 'stack-contract', 'src', 'stack-identity.cjs');
  mkdirSync(join(root, dirname(identity)), { recursive: true });
  cpSync(join(repo, identity), join(root, identity));
  for (const file of ['pnpm-workspace.yaml', 'package.json']) cpSync(join(repo, file), join(root, file));
  const ecosystem = readFileSync(join(repo, 'ecosystem.config.js'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*logRotator\(\),/.test(line))
    .join('\n');
  writeFileSync(join(root, 'ecosystem.config.js'), ecosystem);
  for (const service of services) {
    const target = join(root, relative(repo, service.cwd));
    mkdirSync(target, { recursive: true });
    cpSync(join(service.cwd, 'package.json'), join(target, 'package.json'));
    cpSync(join(service.cwd, 'dist'), join(target, 'dist'), { recursive: true });
    symlinkSync(join(service.cwd, 'node_modules'), join(target, 'node_modules'), 'dir');
  }
}

/** The real bin, as the harness runs commands (killed with its children past the bound). */
const run = (args: string[], env: NodeJS.ProcessEnv, timeoutMs = 150_000): Promise<RunResult> =>
  runCommand(process.execPath, [devctlBin, ...args], { env, cwd: process.cwd(), timeoutMs });

async function post(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: { token?: string; id?: string } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** The emails in a copy's outbox, waited for (the worker sends them from the queue). */
async function outbox(root: string, count: number): Promise<string[]> {
  const dir = join(root, 'services', 'email', 'outbox');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
    if (files.length >= count || Date.now() > deadline) {
      return files.map((f) => readFileSync(join(dir, f), 'utf8'));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface Listing {
  root: string | null;
  namespace: string;
  state: string;
  gatewayUrl: string | null;
}

describe('two copies of the real stack in one PM2 daemon', () => {
  let base: ReturnType<typeof tempDir>;
  let home: Pm2Home;
  let roots: [string, string];
  const envOf = (root: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...home.env,
    ...stackRegistryEnv(),
    DEVSTACK_STATE_DIR: join(base.path, 'state'),
    DEVCTL_ROOT: root,
    NO_COLOR: '1',
  });
  const stacks = async (root: string) =>
    parseJson<{ stacks: Listing[] }>(await run(['stacks', '--json'], envOf(root))).stacks;

  beforeAll(() => {
    const missing = services.filter((s) => !existsSync(join(s.cwd, 'dist', 'index.js')));
    if (missing.length > 0) {
      throw new Error(`not built: ${missing.map((s) => s.name).join(', ')}; run \`pnpm build\``);
    }
    base = tempDir('side-by-side-real-');
    home = createPm2Home('side-by-side-real-pm2-');
    roots = [join(base.path, 'one'), join(base.path, 'two')];
    for (const root of roots) copyCheckout(root);
  });

  afterAll(async () => {
    await home?.cleanup();
    base?.cleanup();
  }, 60_000);

  it('started at the same moment, each is healthy on its own block, and keeps its own data and outbox', async () => {
    const started = await Promise.all(
      roots.map((root) => run(['start', '--wait', '--no-build'], envOf(root))),
    );
    for (const result of started) expect(result.code, result.stdout + result.stderr).toBe(0);
    const listed = (await stacks(roots[0])).filter((s) => roots.includes(s.root ?? ''));
    expect(listed.map((s) => s.state)).toEqual(['running', 'running']);
    expect(new Set(listed.map((s) => s.namespace)).size).toBe(2);
    const gateways = roots.map((root) => listed.find((s) => s.root === root)?.gatewayUrl as string);
    expect(new Set(gateways).size).toBe(2);

    // The same sign-up in both: each stack's data-service has its own users (a shared one would answer 409).
    for (const [index, gateway] of gateways.entries()) {
      const signup = await post(`${gateway}/api/auth/signup`, {
        email: 'ada@example.com',
        password: 'correct horse',
      });
      expect(signup.status).toBe(201);
      const form = await post(
        `${gateway}/api/forms`,
        {
          title: `Feedback ${index}`,
          fields: [{ name: 'name', label: 'Name', type: 'text', required: true }],
        },
        signup.json.token,
      );
      expect(form.status).toBe(201);
      const submission = await post(`${gateway}/api/forms/${form.json.id}/submissions`, {
        answers: { name: 'Grace' },
      });
      expect(submission.status).toBe(201);
    }
    // Each outbox holds exactly its own stack's confirmation.
    for (const [index, root] of roots.entries()) {
      const emails = await outbox(root, 1);
      expect(emails).toHaveLength(1);
      // The subject names the form's title (MIME-encoded: a space may be written `_`).
      expect(emails[0]).toMatch(new RegExp(`Feedback[ _]${index}`));
    }

    // Stopping one leaves the other up and healthy.
    expect((await run(['stop'], envOf(roots[0]))).code).toBe(0);
    const after = await stacks(roots[1]);
    expect(after.find((s) => s.root === roots[0])?.state).toBe('stopped');
    expect(after.find((s) => s.root === roots[1])?.state).toBe('running');
    const health = await fetch(`${gateways[1]}/api/health`);
    expect(health.status).toBe(200);
  });
});
