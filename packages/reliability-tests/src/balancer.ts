// A round-robin HTTP balancer in front of several replicas of one service, as a Kubernetes Service
// or a Compose network alias is in front of its pods: each request goes to the next replica; a
// replica that refuses the connection (killed) is skipped and the request goes to the next one.
// Only a refused connection is retried: the request was never received, so no replica ran it twice.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  url: string;
  /** Requests sent to each backend (by its URL), refused ones not counted. */
  served: Map<string, number>;
  close(): Promise<void>;
}

export async function startBalancer(backends: string[]): Promise<Balancer> {
  let next = 0;
  const served = new Map(backends.map((b) => [b, 0]));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const start = next++ % backends.length;
      const attempt = (tried: number) => {
        const backend = backends[(start + tried) % backends.length] as string;
        const upstream = request(
          new URL(req.url ?? '/', backend),
          // A new connection per request: a pooled one to a killed replica would fail with ECONNRESET
          // after the request was written, where a fresh one is refused before anything is sent.
          { method: req.method, headers: { ...req.headers, host: new URL(backend).host }, agent: false },
          (answer) => {
            served.set(backend, (served.get(backend) ?? 0) + 1);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED' && tried + 1 < backends.length) return attempt(tried + 1);
          if (res.headersSent) return res.destroy(error);
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `balancer: ${backend} failed: ${error.code ?? error.message}` }));
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
