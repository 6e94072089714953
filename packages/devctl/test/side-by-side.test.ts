// Several checkouts of the repository running their stacks at once in one PM2 daemon, as a person
// with a second clone or agents in git worktrees do. Each checkout here is a copy of the real
// ecosystem.config.js and stack-identity.cjs (so the real block and namespace logic runs, through the
// real devctl bin), with the fixture server (stack/server.js) as each service's built script and
// three of the seven services kept, so three stacks stay light on a 2-core machine. The registry is
// this file's own (DEVSTACK_STATE_DIR) and blocks start at DEVSTACK_FIRST_BLOCK (vitest.shared.ts),
// so nothing here depends on, or lands on, the documented ports 3000-3006.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPm2Home, type Pm2Home, repoRoot, tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devctlBin, parseJson, type RunResult, runCommand, stackRegistryEnv } from './fixtures/harness';

const KEPT = ['data-service', 'form-service', 'api-gateway'];
const serverSource = join(import.meta.dirname, 'fixtures', 'stack', 'server.js');

/** A checkout: the real ecosystem (three services, no log rotator) and the identity module it requires. */
function makeCheckout(base: string, name: string): string {
  const root = join(base, name);
  const contract = join(root, 'packages', 'stack-contract', 'src');
  mkdirSync(contract, { recursive: true });
  copyFileSync(
    join(repoRoot(), 'packages', 'stack-contract', 'src', 'stack-identity.cjs'),
    join(contract, 'stack-identity.cjs'),
  );
  const source = readFileSync(join(repoRoot(), 'ecosystem.config.js'), 'utf8')
    .split('\n')
    .filter((line) => {
      const service = /^\s*service\('([^']+)'/.exec(line)?.[1];
      if (service) return KEPT.includes(service);
      return !/^\s*logRotator\(\),/.test(line);
    })
    // depends_on keeps only the services kept.
    .map((line) => line.replace(/'([a-z-]+-service)',? ?/g, (all, name) => (KEPT.includes(name) ? all : '')))
    .join('\n');
  writeFileSync(join(root, 'ecosystem.config.js'), source);
  for (const folder of ['data', 'form', 'api-gateway']) {
    mkdirSync(join(root, 'services', folder, 'dist'), { recursive: true });
    copyFileSync(serverSource, join(root, 'services', folder, 'dist', 'index.js'));
  }
  return root;
}

/** The real bin, as the harness runs commands (killed with its children past the bound). */
const run = (args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<RunResult> =>
  runCommand(process.execPath, [devctlBin, ...args], { env, cwd: process.cwd(), timeoutMs });

interface Listing {
  root: string | null;
  namespace: string;
  block: number | null;
  state: string;
  current: boolean;
  ports: Record<string, number>;
  gatewayUrl: string | null;
  services: { name: string; status: string; port: number | null }[];
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

describe('several checkouts, one PM2 daemon', () => {
  let base: ReturnType<typeof tempDir>;
  let home: Pm2Home;
  let checkouts: string[];
  const envOf = (root: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...home.env,
    ...stackRegistryEnv(),
    // A registry of its own: prune must see only these checkouts, not other test files' copies.
    DEVSTACK_STATE_DIR: join(base.path, 'state'),
    DEVCTL_ROOT: root,
    NO_COLOR: '1',
  });
  const devctl = (root: string, ...args: string[]) => run(args, envOf(root));
  const stacks = async (root: string) =>
    parseJson<{ stacks: Listing[] }>(await devctl(root, 'stacks', '--json')).stacks;

  beforeAll(() => {
    base = tempDir('side-by-side-');
    home = createPm2Home('side-by-side-pm2-');
    checkouts = ['first', 'second', 'third'].map((name) => makeCheckout(base.path, name));
  });

  afterAll(async () => {
    await home?.cleanup();
    base?.cleanup();
  }, 60_000);

  it('two checkouts started at the same moment get their own block and namespace, both healthy', async () => {
    const [first, second] = checkouts as [string, string];
    const results = await Promise.all(
      [first, second].map((root) => devctl(root, 'start', '--wait', '--no-build')),
    );
    for (const result of results) expect(result.code, result.stdout + result.stderr).toBe(0);
    // One line each says which block and why.
    const lines = results.map((r) =>
      /^stack (\S+): ports ([\d, -]+), web (\d+) \(block (\d+): .+\)$/m.exec(r.stdout),
    );
    for (const line of lines) expect(line).not.toBeNull();
    const [a, b] = lines as [RegExpExecArray, RegExpExecArray];
    expect(a[1]).not.toBe(b[1]);
    expect(a[4]).not.toBe(b[4]);

    const listed = await stacks(first);
    const mine = listed.filter((s) => s.root === first || s.root === second);
    expect(mine).toHaveLength(2);
    expect(mine.find((s) => s.root === first)?.current).toBe(true);
    for (const stack of mine) {
      expect(stack.state).toBe('running');
      expect(Object.keys(stack.ports).sort()).toEqual([...KEPT].sort());
      expect(stack.gatewayUrl).toBe(`http://127.0.0.1:${stack.ports['api-gateway']}`);
      // Every service answers on its own block's port.
      for (const port of Object.values(stack.ports)) expect(await healthy(port)).toBe(true);
    }
    const [one, two] = mine as [Listing, Listing];
    expect(new Set([...Object.values(one.ports), ...Object.values(two.ports)]).size).toBe(2 * KEPT.length);
    expect(one.namespace).not.toBe(two.namespace);
  });

  it('a third checkout started while both run gets a third block', async () => {
    const third = checkouts[2] as string;
    const result = await devctl(third, 'start', '--wait', '--no-build');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const listed = (await stacks(third)).filter((s) => checkouts.includes(s.root ?? ''));
    expect(listed).toHaveLength(3);
    expect(new Set(listed.map((s) => s.block)).size).toBe(3);
    expect(new Set(listed.map((s) => s.namespace)).size).toBe(3);
    expect(listed.every((s) => s.state === 'running')).toBe(true);
  });

  it('stop and delete in one checkout leave the others up; --stack reaches another on purpose', async () => {
    const [first, second, third] = checkouts as [string, string, string];
    expect((await devctl(first, 'stop')).code).toBe(0);
    let listed = await stacks(second);
    const stateOf = (root: string) => listed.find((s) => s.root === root)?.state;
    expect(stateOf(first)).toBe('stopped');
    expect(stateOf(second)).toBe('running');
    expect(stateOf(third)).toBe('running');

    // From the first checkout, on purpose: the second's stack.
    const deleted = await devctl(first, 'delete', '--stack', second);
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0);
    listed = await stacks(third);
    expect(stateOf(second)).toBe('not started');
    expect(stateOf(first)).toBe('stopped');
    expect(stateOf(third)).toBe('running');
    const third3 = listed.find((s) => s.root === third) as Listing;
    for (const port of Object.values(third3.ports)) expect(await healthy(port)).toBe(true);

    const status = parseJson<{ namespace: string }>(
      await devctl(first, 'status', '--json', `--stack=${third3.namespace}`),
    );
    expect(status.namespace).toBe(third3.namespace);
  });

  it('prune forgets a checkout that is gone and deletes what still ran for it', async () => {
    const [first, , third] = checkouts as [string, string, string];
    const namespace = (await stacks(first)).find((s) => s.root === third)?.namespace as string;
    rmSync(third, { recursive: true, force: true });
    const pruned = parseJson<{ removed: { root: string; namespace: string; deleted: string[] }[] }>(
      await devctl(first, 'stacks', 'prune', '--json'),
    );
    expect(pruned.removed).toEqual([{ root: third, namespace, deleted: expect.arrayContaining(KEPT) }]);
    const listed = await stacks(first);
    expect(listed.some((s) => s.namespace === namespace)).toBe(false);
  });
});
