import { failedAnswerError, localServiceUrl, noAnswerError, serviceUrlVariable, z } from '@repo/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticate } from '../authenticate';

/**
 * One entry of routes/generated.ts: a service `devctl new service` made. Every entry is a backend
 * of GET /api/health with its URL variable; one with a `prefix` is also forwarded.
 */
export type GeneratedRoute =
  | {
      /** The public prefix, e.g. `/api/billing`: it and everything under it go to the service. */
      prefix: string;
      /** The service's PM2 name, e.g. `billing-service`. */
      service: string;
      /** The service's port in ecosystem.config.js: the default of its URL variable. */
      port: number;
      /** `bearer`: the gateway checks the JWT and passes the user as `x-user-id`; `public`: no check. */
      auth: 'public' | 'bearer';
    }
  | { prefix?: undefined; service: string; port: number; auth?: undefined };

/** A generated route with the service's base URL taken from the configuration. */
export type ForwardedRoute = GeneratedRoute & { baseUrl: string };

/**
 * The config schema fields of the generated routes: one URL variable per service, defaulting to
 * `http://127.0.0.1:<port>`. Typed as no fields, so the static config type stays exact; the values
 * are read by name in resolveForwardedRoutes.
 */
export function generatedRouteConfig(routes: readonly GeneratedRoute[]): Record<never, z.ZodType> {
  return Object.fromEntries(
    routes.map((route) => [
      serviceUrlVariable(route.service),
      z.url({ protocol: /^https?$/ }).default(localServiceUrl(route.port)),
    ]),
  );
}

/** The routes with their base URLs from the validated configuration (see generatedRouteConfig). */
export function resolveForwardedRoutes(routes: readonly GeneratedRoute[], config: object): ForwardedRoute[] {
  const values = config as Record<string, unknown>;
  return routes.map((route) => ({
    ...route,
    baseUrl: String(values[serviceUrlVariable(route.service)] ?? localServiceUrl(route.port)),
  }));
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Registers `<prefix>` and `<prefix>/*` of every route: the request goes to the service with the
 * prefix removed (`/api/billing/items?x=1` -> `<BILLING_SERVICE_URL>/items?x=1`), and its status
 * and body come back as they are. Failures are answered like every other gateway route, naming
 * the service: 502 unreachable or a 5xx (the body of a 5xx is not passed on), 504 timed out.
 * A client-sent `x-user-id` is never forwarded. Hand-written rather than a proxy library: the
 * services speak small JSON bodies, and failures must have the stack's `{message, upstream, code}`.
 */
export function forwardRoutes(
  app: FastifyInstance,
  options: { routes: readonly ForwardedRoute[]; authenticate: Authenticate; timeoutMs: number },
): void {
  for (const route of options.routes) {
    if (route.prefix === undefined) continue;
    const { prefix } = route;
    const base = route.baseUrl.replace(/\/+$/, '');
    const where = new URL(base).host;
    const forward = async (req: FastifyRequest, reply: FastifyReply) => {
      const headers: Record<string, string> = {
        accept: req.headers.accept ?? 'application/json',
        'x-request-id': req.id,
      };
      if (route.auth === 'bearer') headers['x-user-id'] = (await options.authenticate(req)).id;
      let body: string | Buffer | undefined;
      if (!BODYLESS.has(req.method) && req.body !== undefined && req.body !== null) {
        const isRaw = typeof req.body === 'string' || Buffer.isBuffer(req.body);
        body = isRaw ? (req.body as string | Buffer) : JSON.stringify(req.body);
        headers['content-type'] = isRaw ? String(req.headers['content-type']) : 'application/json';
      }
      const rest = req.url.slice(prefix.length);
      const path = rest.startsWith('/') ? rest : `/${rest}`;

      let response: Response;
      let text: string;
      try {
        response = await fetch(base + path, {
          method: req.method,
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        throw noAnswerError(route.service, where, options.timeoutMs, error);
      }
      if (response.status >= 500) {
        let message = response.statusText;
        try {
          const parsed = JSON.parse(text) as { message?: unknown };
          if (typeof parsed.message === 'string') message = parsed.message;
        } catch {
          // not JSON: keep the status text
        }
        throw failedAnswerError(route.service, response.status, message);
      }
      reply.code(response.status);
      // The service's own answers (a 4xx body need not name it): the frontend's client names the
      // service of a failed call from this header, so it needs no list of prefixes of its own.
      reply.header('x-upstream', route.service);
      const contentType = response.headers.get('content-type');
      if (contentType) reply.header('content-type', contentType);
      const location = response.headers.get('location');
      if (location) reply.header('location', location);
      return reply.send(text);
    };
    app.all(prefix, forward);
    app.all(`${prefix}/*`, forward);
  }
}
