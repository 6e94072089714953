import { createServer } from 'node:net';

/**
 * Test ports come from below the OS's ephemeral range (Linux: 32768-60999): a port the OS hands out
 * for `listen(0)` or an outgoing connection is in that range, so another test's server or client
 * could take it between the pick and the use (CI: a stack's worker-service port, picked with
 * listen(0), was held by another vitest worker a minute later). Below it, only another pick can
 * collide, and picks are random across a range of ~12,000 ports.
 */
const RANGE = { from: 20_000, to: 32_000 };
/** Ports this process handed out already: never twice. */
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A TCP port free on 127.0.0.1 a moment ago, outside the range the OS picks from for port 0. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE.from + Math.floor(Math.random() * (RANGE.to - RANGE.from));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on 127.0.0.1 between ${RANGE.from} and ${RANGE.to} after 200 tries`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < count; attempts++) {
    if (attempts > count * 20) throw new Error(`could not find ${count} distinct free ports`);
    ports.add(await freePort());
  }
  return [...ports];
}
