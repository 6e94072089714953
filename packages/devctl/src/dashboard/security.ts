// The dashboard's three guards, kept pure so each is tested on its own (test/dashboard-security.test.ts):
// - a random token, required on every request (a page of another origin cannot read it);
// - the Host header must name the loopback interface: a DNS-rebinding page (evil.example resolving
//   to 127.0.0.1) sends its own name as Host and is refused before anything runs;
// - actions (anything that changes the stack) only by POST with the token in a header: a form, an
//   image tag or a link cannot set a header, and a cross-origin fetch that sets one needs a CORS
//   preflight this server never grants, so there is no CSRF path.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-devctl-token';
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** 24 random bytes, URL-safe: unguessable, and short enough to read in a printed URL. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** True when `host` (a Host or an Origin's host part) names the loopback interface on `port`. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const [, name, portText] = match;
  if (!LOOPBACK_NAMES.has(name as string)) return false;
  return portText === undefined || Number(portText) === port;
}

/** Constant-time comparison, so the token cannot be guessed a character at a time. */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type Refusal = { status: number; message: string };

/**
 * Why a request must be refused, or undefined when it may go on. Reads (GET) take the token from
 * the header or the `token` query parameter (an EventSource and the page's first load cannot set a
 * header); actions (POST) only from the header, and their Origin, when sent, must be loopback too.
 */
export function refusal(
  request: IncomingMessage,
  url: URL,
  token: string,
  port: number,
): Refusal | undefined {
  if (!isLoopbackHost(request.headers.host, port)) {
    return {
      status: 421,
      message: `refused: Host "${request.headers.host ?? ''}" is not 127.0.0.1 or localhost (the dashboard answers loopback names only)`,
    };
  }
  const headerToken = request.headers[TOKEN_HEADER];
  const fromHeader = Array.isArray(headerToken) ? headerToken[0] : headerToken;
  if (request.method === 'GET' || request.method === 'HEAD') {
    if (tokenMatches(fromHeader, token) || tokenMatches(url.searchParams.get('token'), token))
      return undefined;
    return { status: 401, message: 'refused: missing or wrong token; open the URL devctl dashboard printed' };
  }
  if (request.method !== 'POST') return { status: 405, message: `refused: ${request.method} is not served` };
  if (!tokenMatches(fromHeader, token)) {
    return { status: 401, message: `refused: an action needs the token in the ${TOKEN_HEADER} header` };
  }
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (!isLoopbackHost(host, port))
      return { status: 403, message: `refused: Origin ${origin} is not this dashboard` };
  }
  return undefined;
}
