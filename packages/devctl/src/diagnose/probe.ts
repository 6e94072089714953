// Live checks diagnose makes: a service's /health and /ready (with the body, which says why it is
// not ready), and whether a TCP address (a database, an SMTP server) accepts connections.
// node:http and node:net rather than fetch: undici alone costs ~20 ms to load.
import { request } from 'node:http';
import { connect } from 'node:net';

export interface HttpProbe {
  path: string;
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** The body parsed as JSON when it is JSON. */
  body: unknown;
  /** Why it failed: `ECONNREFUSED`, `no answer within 1500 ms`, `status 503`. */
  error: string | null;
  latencyMs: number;
}

export const PROBE_TIMEOUT_MS = 1500;
const MAX_BODY = 16 * 1024;

export function probeHttp(
  host: string,
  port: number,
  path: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<HttpProbe> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<HttpProbe, 'latencyMs' | 'path'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ path, ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const req = request(
      { host, port, path, method: 'GET', agent: false, headers: { connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // plain text body
          }
          const ok = status >= 200 && status < 300;
          finish({ ok, status, body, error: ok ? null : `status ${status}` });
        });
        res.on('error', (error) =>
          finish({ ok: false, status: res.statusCode ?? null, body: undefined, error: error.message }),
        );
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, body: undefined, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, status: null, body: undefined, error: error.code ?? error.message }),
    );
    req.end();
  });
}

/** The second chance of a probe that got no answer at all (not a refusal, not an error status). */
export const SLOW_PROBE_TIMEOUT_MS = 5000;

/**
 * probeHttp, asked once more with a longer timeout when the first got no answer: on a loaded machine
 * a service that answers in 2 s is slow, not unhealthy (seen after restarts under load). A refused
 * connection or an error status is reported at once.
 */
export async function probeHttpPatiently(
  host: string,
  port: number,
  path: string,
  /** Called when the first try got no answer, as the second starts (to look at the process meanwhile). */
  onFirstNoAnswer?: () => void,
): Promise<HttpProbe> {
  const first = await probeHttp(host, port, path);
  if (first.status !== null || !first.error?.startsWith('no answer')) return first;
  onFirstNoAnswer?.();
  const second = await probeHttp(host, port, path, SLOW_PROBE_TIMEOUT_MS);
  if (second.ok) return second;
  return second.status === null && second.error?.startsWith('no answer')
    ? {
        ...second,
        error: `no answer within ${PROBE_TIMEOUT_MS} ms, nor within ${SLOW_PROBE_TIMEOUT_MS} ms on a second try`,
      }
    : second;
}

/** Resolves with null when host:port accepts a TCP connection, else with the reason. */
export function probeTcp(host: string, port: number, timeoutMs = 800): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
