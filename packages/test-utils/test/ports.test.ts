import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts } from '../src/index';

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
