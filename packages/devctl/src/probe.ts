// Every live probe devctl makes: a service's /health and /ready (status, start-up waits, dev,
// diagnose), and whether a TCP address (a database, an SMTP server) accepts connections. One GET
// over a plain TCP socket (HTTP/1.0, Connection: close), not node:http or fetch: loading those
// costs 10-20 ms (undici ~20 ms), a large share of what `devctl status` may take, and a probe needs
// only the status line and a short body. Never throws: a failure is the result's `error`.
import { connect } from 'node:net';

export interface HttpProbe {
  path: string;
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** The body parsed as JSON when it is JSON, else its text; undefined without an answer. */
  body: unknown;
  /** Why it failed: `ECONNREFUSED`, `no answer within 1500 ms`, `status 503`. */
  error: string | null;
  latencyMs: number;
}

/** The timeout of diagnose's first look (status and the start-up wait pass their own). */
export const PROBE_TIMEOUT_MS = 1500;
/** The second chance of a probe that got no answer at all (not a refusal, not an error status). */
export const SLOW_PROBE_TIMEOUT_MS = 5000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The body of a chunked HTTP/1.1 answer (a server may ignore HTTP/1.0 and stream). */
function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) return out;
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** Parses a complete HTTP/1.x response into its status code and body. */
export function parseHttpResponse(raw: string): { statusCode: number; body: string } | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (!match) return undefined;
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd === -1) return { statusCode: Number(match[1]), body: '' };
  const body = raw.slice(headerEnd + 4);
  const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(raw.slice(0, headerEnd));
  return { statusCode: Number(match[1]), body: chunked ? dechunk(body) : body };
}

/** GET http://<host>:<port><path>, bounded by `timeoutMs`. */
export function probeHttp(
  host: string,
  port: number,
  path: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<HttpProbe> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = connect({ host, port });
    const finish = (result: Omit<HttpProbe, 'latencyMs' | 'path'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ path, ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(
      () => finish({ ok: false, status: null, body: undefined, error: `no answer within ${timeoutMs} ms` }),
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
        finish({ ok: false, status: null, body: undefined, error: 'not an HTTP answer' });
        return;
      }
      let body: unknown = response.body;
      try {
        body = JSON.parse(response.body);
      } catch {
        // plain text body
      }
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      finish({ ok, status: response.statusCode, body, error: ok ? null : `status ${response.statusCode}` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, status: null, body: undefined, error: error.code ?? error.message }),
    );
  });
}

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

/** The shape `devctl status --json` documents for a service's health. */
export interface HealthResult {
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  statusCode: number | null;
  latencyMs: number;
  /** Why it is not ok: `ECONNREFUSED`, `no answer within 1000 ms`, `status 503: <body>`. */
  error: string | null;
}

/** GET /health (or `path`) of a local service, as status and the start-up wait report it. */
export async function probeHealth(
  port: number,
  options: { host?: string; path?: string; timeoutMs?: number } = {},
): Promise<HealthResult> {
  const probe = await probeHttp(
    options.host ?? '127.0.0.1',
    port,
    options.path ?? '/health',
    options.timeoutMs ?? 1000,
  );
  let error = probe.error;
  if (!probe.ok && probe.status !== null) {
    // The body says why (a readiness check's name, an error message): part of the one-line reason.
    const text = (typeof probe.body === 'string' ? probe.body : JSON.stringify(probe.body))
      .slice(0, 300)
      .trim();
    error = `status ${probe.status}${text ? `: ${text}` : ''}`;
  }
  return { ok: probe.ok, statusCode: probe.status, latencyMs: probe.latencyMs, error };
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
