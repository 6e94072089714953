import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort, freePorts, tempDir } from '../src/index';

function canListen(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

function listenOn(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

describe('freePort', () => {
  it('returns a port outside the stack range that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port < 3000 || port > 3006).toBe(true);
    await listenOn(port);
  });

  it('freePorts returns the number asked for, all distinct', async () => {
    const ports = await freePorts(7);
    expect(ports).toHaveLength(7);
    expect(new Set(ports).size).toBe(7);
  });
});

describe('freePort across test processes', () => {
  const before = process.env.DEVSTACK_TEST_PORTS_DIR;
  afterEach(() => {
    if (before === undefined) delete process.env.DEVSTACK_TEST_PORTS_DIR;
    else process.env.DEVSTACK_TEST_PORTS_DIR = before;
  });

  it('never hands out a port a living process noted; takes over the note of a process gone', async () => {
    const folder = tempDir('ports-noted-');
    process.env.DEVSTACK_TEST_PORTS_DIR = folder.path;
    // A fresh module: its own list of ports handed out is empty, as in another vitest worker.
    vi.resetModules();
    const fresh = (await import('../src/ports')) as typeof import('../src/ports');
    // Two ports nothing listens on: one never noted, one noted by a process that has exited.
    const open: number[] = [];
    while (open.length < 2) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!open.includes(port) && (await canListen(port))) open.push(port);
    }
    const [free, stale] = open as [number, number];
    const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
    // Every other port of the range noted by a living process (vitest's own, alive throughout).
    for (let port = 20_000; port < 32_000; port++)
      if (port !== free)
        writeFileSync(join(folder.path, String(port)), String(port === stale ? gone : process.ppid));
    try {
      const picks = [await fresh.freePort(), await fresh.freePort()];
      expect(picks.sort()).toEqual([free, stale].sort());
      // Both noted as this process's now.
      expect(readFileSync(join(folder.path, String(free)), 'utf8')).toBe(String(process.pid));
      expect(readFileSync(join(folder.path, String(stale)), 'utf8')).toBe(String(process.pid));
      await expect(fresh.freePort()).rejects.toThrow(/handed out to a living test process/);
    } finally {
      folder.cleanup();
    }
  });
});
