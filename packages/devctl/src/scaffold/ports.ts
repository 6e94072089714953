// Choosing a port for a new service: one that no ecosystem entry uses and nothing listens on now.
import { createServer } from 'node:net';

/**
 * Ports a service must not take even when they are free right now: the frontend's dev server
 * (5173) and `vite preview` (4173) are started outside PM2 and often not running.
 */
export const RESERVED_PORTS = new Set([4173, 5173]);

/** True when a server could listen on 127.0.0.1:`port` a moment ago (tried, then closed). */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * The first port above the highest one in `taken` (3001 when there is none) that is not taken,
 * not reserved and free to listen on. Counting up from the highest keeps the ports of a project
 * together, in the order the services were added.
 */
export async function pickPort(taken: ReadonlySet<number>, offset = 0): Promise<number> {
  const start = Math.max(3000, ...taken) + 1;
  for (let port = start; port <= 65535; port++) {
    if (taken.has(port) || RESERVED_PORTS.has(port)) continue;
    // Free where the first checkout listens and where this one will (its block shifts every
    // documented port by `offset`).
    if ((await canListen(port)) && (offset === 0 || (await canListen(port + offset)))) return port;
  }
  throw new Error(`no free port between ${start} and 65535; pass one with --port`);
}
