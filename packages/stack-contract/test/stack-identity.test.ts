import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findStack, namespaceFor, readRegistry, removeStacks, stackIdentity } from '../src/index';

const identityModule = fileURLToPath(new URL('../src/stack-identity.cjs', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

// Documented ports far from any real stack's (and from the test port range 20000-32000): block i
// holds 14000+100i.., web 14050+100i.
const PORTS = [14000, 14001, 14002];
const WEB = 14050;

function world() {
  const dir = { path: mkdtempSync(join(tmpdir(), 'stack-identity-')) };
  cleanups.push(() => rmSync(dir.path, { recursive: true, force: true }));
  const env = { DEVSTACK_STATE_DIR: join(dir.path, 'state') };
  const checkout = (name: string) => {
    const root = join(dir.path, name);
    mkdirSync(root, { recursive: true });
    return root;
  };
  const identity = (root: string) => stackIdentity(root, { namespace: 'demo', ports: PORTS, web: WEB, env });
  return { dir: dir.path, env, checkout, identity };
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('stackIdentity', () => {
  it('gives the first checkout block 0 and the project namespace, the next the lowest free block and a namespace of its own, and keeps them', () => {
    const { checkout, identity, env } = world();
    const main = checkout('main');
    const wt = checkout('feature wt');
    const first = identity(main);
    expect(first).toMatchObject({ namespace: 'demo', block: 0, offset: 0, ports: PORTS, web: WEB });
    expect(first.source).toBe('claimed');
    const second = identity(wt);
    expect(second.block).toBe(1);
    expect(second.ports).toEqual([14100, 14101, 14102]);
    expect(second.web).toBe(14150);
    expect(second.namespace).toMatch(/^demo-feature-wt-[0-9a-f]{4}$/);
    expect(second.reason).toContain(`block 0 belongs to ${main}`);
    // Kept: asked again, the same answer from the registry.
    expect(identity(wt)).toMatchObject({ block: 1, namespace: second.namespace, source: 'registry' });
    expect(readRegistry(env).map((e) => e.block)).toEqual([0, 1]);
    const recorded = JSON.parse(readFileSync(join(wt, '.devctl', 'stack.json'), 'utf8'));
    expect(recorded).toMatchObject({ root: wt, block: 1, namespace: second.namespace });
  });

  it('passes over a block whose ports something listens on, and says so', async () => {
    const { checkout, identity } = world();
    const server = await listen(14001);
    cleanups.push(() => server.close());
    const first = identity(checkout('a'));
    expect(first.block).toBe(1);
    expect(first.reason).toContain('14001 of block 0 in use');
  });

  it('keeps block 0 for a checkout whose own processes hold its ports (a stack started before the registry)', async () => {
    const { checkout, identity } = world();
    const root = checkout('running');
    // A process of the checkout (its cwd inside it) listening on the block's port, as a service would.
    const child = spawn(
      process.execPath,
      ['-e', "require('node:net').createServer().listen(14002, '127.0.0.1', () => console.log('up'))"],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(() => child.kill('SIGKILL'));
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      expect(identity(root).block).toBe(0);
      // Another checkout sees the port taken.
      expect(identity(checkout('other')).block).toBe(1);
    } finally {
      // Gone before the next test looks at the same ports.
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('gives a copied checkout (its stack.json names another folder) a block of its own', () => {
    const { checkout, identity, dir } = world();
    const original = checkout('original');
    identity(original);
    const copy = join(dir, 'copy');
    cpSync(original, copy, { recursive: true });
    expect(identity(copy)).toMatchObject({ block: 1, root: copy });
    expect(identity(original).block).toBe(0);
  });

  it('keeps a checkout on its block when the registry was lost, if the block is still free', () => {
    const { checkout, identity, env } = world();
    identity(checkout('a'));
    const b = checkout('b');
    expect(identity(b).block).toBe(1);
    rmSync(env.DEVSTACK_STATE_DIR, { recursive: true });
    expect(identity(b).block).toBe(1);
  });

  it('frees the block of a checkout that no longer exists; prune removes its entry', () => {
    const { checkout, identity, env } = world();
    const gone = checkout('gone');
    identity(gone);
    rmSync(gone, { recursive: true });
    const next = identity(checkout('next'));
    expect(next.block).toBe(0);
    expect(removeStacks([gone], env).map((e) => e.root)).toEqual([gone]);
    expect(findStack(gone, env)).toBeUndefined();
  });

  it('starts at DEVSTACK_FIRST_BLOCK', () => {
    const { checkout, env } = world();
    const root = checkout('x');
    const identity = stackIdentity(root, {
      namespace: 'demo',
      ports: PORTS,
      web: WEB,
      env: { ...env, DEVSTACK_FIRST_BLOCK: '7' },
    });
    expect(identity).toMatchObject({ block: 7, offset: 700, namespace: namespaceFor(root, 7, 'demo') });
    expect(identity.reason).toContain('DEVSTACK_FIRST_BLOCK=7');
  });

  it('never gives one block to two checkouts that claim at the same moment (separate processes)', async () => {
    const { checkout, env } = world();
    const roots = Array.from({ length: 6 }, (_, i) => checkout(`c${i}`));
    const script = `const { stackIdentity } = require(${JSON.stringify(identityModule)});
      const id = stackIdentity(process.argv[1], { ports: ${JSON.stringify(PORTS)}, web: ${WEB} });
      process.stdout.write(JSON.stringify({ block: id.block, namespace: id.namespace }));`;
    const results = await Promise.all(
      roots.map(
        (root) =>
          new Promise<{ block: number; namespace: string }>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', script, root], {
              env: { PATH: process.env.PATH, ...env },
            });
            let out = '';
            let err = '';
            child.stdout.on('data', (chunk: Buffer) => {
              out += chunk;
            });
            child.stderr.on('data', (chunk: Buffer) => {
              err += chunk;
            });
            child.once('close', (code) =>
              code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)),
            );
          }),
      ),
    );
    expect(results.map((r) => r.block).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(results.map((r) => r.namespace)).size).toBe(6);
    expect(readRegistry(env)).toHaveLength(6);
  });

  it('takes over the lock of a holder that is gone', () => {
    const { checkout, identity, env } = world();
    mkdirSync(env.DEVSTACK_STATE_DIR, { recursive: true });
    // pid 2^22+1 is above Linux's largest pid_max: no such process.
    const lockFile = join(env.DEVSTACK_STATE_DIR, 'stacks.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: 4194305, command: 'dead' }));
    expect(identity(checkout('a')).block).toBe(0);
  });
});
