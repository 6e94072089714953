// The live `/health` probe: one HTTP/1.0 GET over a plain TCP socket. Not node:http or fetch:
// loading them costs 10-20 ms, a large share of what `devctl status` may take, and a probe needs
// only the status line and a short body.
import { connect } from 'node:net';

export interface HealthResult {
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  statusCode: number | null;
  latencyMs: number;
  /** Why it is not ok: `ECONNREFUSED`, `no answer within 1000 ms`, `status 503: <body>`. */
  error: string | null;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/** Parses a complete HTTP/1.x response into its status code and (unchunked) body. */
export function parseHttpResponse(raw: string): { statusCode: number; body: string } | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (!match) return undefined;
  const headerEnd = raw.indexOf('\r\n\r\n');
  return { statusCode: Number(match[1]), body: headerEnd === -1 ? '' : raw.slice(headerEnd + 4) };
}

/** GET http://<host>:<port><path> with a timeout; never throws. */
export function probeHealth(
  port: number,
  options: { host?: string; path?: string; timeoutMs?: number } = {},
): Promise<HealthResult> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/health';
  const timeoutMs = options.timeoutMs ?? 1000;
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = connect({ host, port });
    const finish = (result: Omit<HealthResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(
      () => finish({ ok: false, statusCode: null, error: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () => {
      // HTTP/1.0 with Connection: close, so the server ends the response by closing.
      socket.write(
        `GET ${path} HTTP/1.0\r\nHost: ${host}:${port}\r\nConnection: close\r\nAccept: application/json\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    socket.once('end', () => {
      const response = parseHttpResponse(Buffer.concat(chunks).toString('utf8'));
      if (!response) {
        finish({ ok: false, statusCode: null, error: 'not an HTTP answer' });
        return;
      }
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const body = response.body.slice(0, 300).trim();
      finish({
        ok,
        statusCode: response.statusCode,
        error: ok ? null : `status ${response.statusCode}${body ? `: ${body}` : ''}`,
      });
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, statusCode: null, error: error.code ?? error.message }),
    );
  });
}
