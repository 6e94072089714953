// The dashboard's HTTP server (node:http: a dozen routes do not need a framework, and it starts in
// the time `devctl status` does). Every answer comes from the same domain functions as the CLI and
// the MCP server -- collectStatus, collectGraph, diagnose, trace, the lifecycle commands -- and goes
// through maskDeep, the MCP server's second masking pass, so no secret reaches the page. The
// domain modules a panel needs are loaded when it first asks, so the command prints its URL at once.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allApps, type Ecosystem, resolveServices } from '../ecosystem/index';
import { CLIError } from '../errors';
import { maskDeep } from '../mcp/mask';
import { collectStatus } from '../status/index';
import { LiveHub } from './live';
import { lastLines } from './logs';
import { refusal } from './security';

export const ACTIONS = ['restart', 'stop', 'start'] as const;
export type DashboardAction = (typeof ACTIONS)[number];

const MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_LOG_LINES = 200;
const MAX_LOG_LINES = 2000;
/** A restart builds, then waits for /health per dependency wave; the command enforces its own timeout. */
const ACTION_LIMIT_MS = 10 * 60_000;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // The token is in the page's URL: never send it on in a Referer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** dist/dashboard, the page Vite built (found from this module: src/dashboard/ in tests, dist/ bundled). */
export function assetsFolder(): string | undefined {
  // Only a dist/dashboard: packages/devctl/dashboard/ holds the page's source (an index.html too).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    const candidate = basename(dir) === 'dist' ? join(dir, 'dashboard') : join(dir, 'dist', 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export interface DashboardServer {
  server: Server;
  hub: LiveHub;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type':
      typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...headers,
  });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new CLIError(`the request body is over ${MAX_BODY_BYTES} bytes`, 2));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The page with the token added to its asset URLs (they are requests too, and need it). */
function pageHtml(folder: string, token: string): string {
  return readFileSync(join(folder, 'index.html'), 'utf8').replace(
    /((?:src|href)=")(\.?\/assets\/[^"?]+)"/g,
    (_, attribute: string, path: string) => `${attribute}${path}?token=${encodeURIComponent(token)}"`,
  );
}

export interface ActionResult {
  action: DashboardAction;
  service: string;
  /** The command's exit: true when it did what was asked (restart: healthy and the verdict clean). */
  ok: boolean;
  /** One line for the page: what happened, or why not. */
  verdict: string;
  /** The command's `--json` document (start/stop/restart --json), masked. */
  report: Record<string, unknown> | null;
}

/** Runs `devctl <action> <service> [--wait] --json` as the MCP tools do: the lifecycle domain, its verdict. */
async function runAction(action: DashboardAction, service: string): Promise<ActionResult> {
  const { documentOf, runDevctl } = await import('../mcp/devctl-process');
  const args = action === 'stop' ? ['stop', service] : [action, '--wait', service];
  const run = await runDevctl(args, { timeoutMs: ACTION_LIMIT_MS });
  let report: Record<string, unknown>;
  try {
    report = documentOf(run, args.join(' '));
  } catch (error) {
    return { action, service, ok: false, verdict: (error as Error).message, report: null };
  }
  const ok = run.code === 0;
  const verdictDoc = report.verdict as
    | { findings?: { summary?: string; next?: string }[] }
    | null
    | undefined;
  const first = verdictDoc?.findings?.[0];
  const failed = (
    report.services as { name?: string; ok?: boolean; reason?: string; message?: string }[] | undefined
  )?.find((s) => s.ok === false);
  const verdict = ok
    ? action === 'stop'
      ? `${service} stopped`
      : `${service} ${action === 'start' ? 'started' : 'restarted'} and healthy${verdictDoc ? '; diagnose found nothing new since' : ''}`
    : first
      ? `${first.summary ?? 'not healthy'}${first.next ? ` -- next: ${first.next}` : ''}`
      : `${action} ${service} failed${failed ? `: ${failed.reason ?? failed.message ?? JSON.stringify(failed)}` : ` (exit ${run.code})`}`;
  return { action, service, ok, verdict, report };
}

export function createDashboardServer(options: {
  ecosystem: Ecosystem;
  token: string;
  /** The port the server listens on (checked against the Host header); set after listen when 0. */
  port: () => number;
}): DashboardServer {
  const { ecosystem, token } = options;
  const hub = new LiveHub(ecosystem);
  const folder = assetsFolder();
  const names = new Set(allApps(ecosystem).map((app) => app.name));

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const refused = refusal(request, url, token, options.port());
    if (refused) return send(response, refused.status, { message: refused.message });
    const path = url.pathname;

    if (request.method === 'POST') {
      if (path !== '/api/actions') return send(response, 404, { message: `no action at ${path}` });
      if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
        return send(response, 415, {
          message: 'an action is a JSON body: {"action":"restart","service":"<name>"}',
        });
      }
      let body: { action?: unknown; service?: unknown };
      try {
        body = JSON.parse(await readBody(request)) as typeof body;
      } catch {
        return send(response, 400, {
          message: 'the body is not JSON: {"action":"restart","service":"<name>"}',
        });
      }
      const action = body.action as DashboardAction;
      const service = body.service;
      if (!ACTIONS.includes(action)) {
        return send(response, 400, { message: `action must be one of ${ACTIONS.join(', ')}` });
      }
      if (typeof service !== 'string' || !names.has(service)) {
        return send(response, 400, {
          message: `unknown service "${String(service)}"; one of ${[...names].join(', ')}`,
        });
      }
      const result = await runAction(action, service);
      void hub.refresh();
      return send(response, 200, maskDeep(result));
    }

    switch (path) {
      case '/':
      case '/index.html':
        if (!folder) {
          return send(
            response,
            503,
            'the dashboard page is not built: run pnpm --filter @repo/devctl build, then devctl dashboard again',
          );
        }
        return send(response, 200, pageHtml(folder, token), {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': PAGE_POLICY,
        });
      case '/api/status':
        return send(response, 200, maskDeep(await collectStatus(ecosystem, [], { readiness: true })));
      case '/api/graph':
        return send(response, 200, maskDeep(await (await import('../graph/index')).collectGraph(ecosystem)));
      case '/api/logs': {
        const service = url.searchParams.get('service');
        const services = service
          ? resolveServices(ecosystem, [service], { tools: true })
          : allApps(ecosystem);
        const lines = Math.min(Number(url.searchParams.get('lines')) || DEFAULT_LOG_LINES, MAX_LOG_LINES);
        return send(response, 200, { lines: lastLines(ecosystem, services, lines) });
      }
      case '/api/findings':
        return send(
          response,
          200,
          maskDeep(await (await import('../diagnose/index')).diagnose({ ecosystem })),
        );
      case '/api/requests':
        return send(
          response,
          200,
          maskDeep({ requests: (await import('./requests')).recentRequests(ecosystem) }),
        );
      case '/api/events':
        hub.add(response);
        return;
      default:
        break;
    }
    if (path.startsWith('/api/trace/')) {
      const requestId = decodeURIComponent(path.slice('/api/trace/'.length));
      return send(
        response,
        200,
        maskDeep(await (await import('../trace/index')).trace({ requestId, ecosystem })),
      );
    }
    if (path.startsWith('/assets/') && folder) {
      const file = join(folder, 'assets', basename(path));
      if (basename(path) === path.slice('/assets/'.length) && existsSync(file)) {
        return send(response, 200, readFileSync(file, 'utf8'), {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        });
      }
    }
    return send(response, 404, { message: `nothing at ${path}` });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.end();
        return;
      }
      const status = error instanceof CLIError ? (error.exitCode === 2 ? 400 : 404) : 500;
      send(response, status, maskDeep({ message: (error as Error).message }));
    });
  });
  return {
    server,
    hub,
    close: () =>
      new Promise((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
