import { createServer } from 'node:net';
import { createApp, createLogger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';

const silentLogger = () => createLogger({ service: 'stub', level: 'silent' });

export interface Stub {
  url: string;
  app: FastifyInstance;
  /**
   * Closes the server and every connection at once. fetch (undici) may open a spare keep-alive
   * connection that never carries a request; a plain close() waits for the client to drop it (~4 s).
   */
  close(): Promise<void>;
}

/** A real HTTP server on a port the OS picks; `define` adds its routes. */
export async function startStub(define: (app: FastifyInstance) => void): Promise<Stub> {
  const app = createApp({ service: 'stub', logger: silentLogger() });
  define(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('stub has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    async close() {
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    },
  };
}

/** A URL where nothing listens (a port the OS just handed out and that was closed again). */
export function closedPortUrl(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}
