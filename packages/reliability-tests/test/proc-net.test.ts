// listeningSockets reads what the kernel has bound; these cases make sure it can tell 127.0.0.1
// from every address, so the bind check of security-defaults.test.ts can fail.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listeningSockets } from '../src/proc-net';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function listen(host: string): Promise<number> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as { port: number }).port)),
  );
}

describe('listeningSockets', () => {
  it('sees a socket bound to 127.0.0.1 as IPv4 127.0.0.1', async () => {
    const port = await listen('127.0.0.1');
    expect(listeningSockets(process.pid)).toContainEqual({ family: 'IPv4', address: '127.0.0.1', port });
  });

  it('sees a socket bound to every IPv4 address as 0.0.0.0', async () => {
    const port = await listen('0.0.0.0');
    expect(listeningSockets(process.pid)).toContainEqual({ family: 'IPv4', address: '0.0.0.0', port });
  });

  it('sees a socket bound to :: as IPv6', async () => {
    const port = await listen('::');
    const found = listeningSockets(process.pid).find((s) => s.port === port);
    expect(found?.family).toBe('IPv6');
    expect(found?.address).toBe('0000:0000:0000:0000:0000:0000:0000:0000');
  });
});
