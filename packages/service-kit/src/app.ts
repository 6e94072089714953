import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { ZodError } from 'zod';
import { HttpError } from './errors';
import type { Logger } from './logger';
import { runWithRequestId } from './request-context';
import {
  DEFAULT_SLOW_REQUEST_MS,
  rememberErrorCode,
  rememberRefusal,
  ServiceLogController,
} from './request-log';
import {
  declarationStack,
  isResponseSerializationError,
  markMissingBody,
  missingBodyError,
  responseContractError,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from './route-schemas';
import { fieldErrors } from './validation';

export interface ReadinessCheck {
  /** What is checked, e.g. `database` or `data-service`. */
  name: string;
  /** Resolves when the dependency is reachable; throws (with a reason) when it is not. */
  check: () => Promise<unknown>;
}

export interface CreateAppOptions {
  service: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  /** Extra figures for `GET /health` (e.g. queue depth). */
  health?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  bodyLimit?: number;
  readinessTimeoutMs?: number;
  /**
   * A request slower than this is logged even when it is routine (a probe, a poll); default 1000.
   */
  slowRequestMs?: number;
  /**
   * Treat reads that carry `x-routine-request: 1` (sent by the kit's client while it serves a
   * probe) as routine; default true. False for a service that faces clients outside the stack
   * (the gateway), so that no client can keep its requests out of the logs.
   */
  honourRoutineHeader?: boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The app every service builds on: routes declare zod schemas (route-schemas.ts). */
export type ServiceApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Builds a Fastify app with what every service of the stack shares: request ids, one error
 * handler, `/health` and `/ready`, request logging that keeps routine machinery out of info (mark a
 * route with `config: { routine: true }`, see request-log.ts), zod route schemas whose `response`
 * is enforced: an answer that breaks it is a 500 logged at error naming the route and the field.
 * It never listens: `runService` does, and tests use `inject`.
 */
export function createApp(options: CreateAppOptions): ServiceApp {
  const requestLog = new ServiceLogController(
    options.slowRequestMs ?? DEFAULT_SLOW_REQUEST_MS,
    options.honourRoutineHeader ?? true,
  );
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logController: requestLog,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('preValidation', async (req) => markMissingBody(req));

  // Where each route with a response schema is declared, by `METHOD url`: the stack of its
  // ResponseContractError (route-schemas.ts). Taken once per route, at start.
  const declaredAt = new Map<string, string | undefined>();
  app.addHook('onRoute', (route) => {
    if (!route.schema?.response) return;
    const stack = declarationStack();
    for (const method of [route.method].flat()) declaredAt.set(`${method} ${route.url}`, stack);
  });

  // Node keeps a keep-alive socket open after its in-flight response even while the server closes,
  // which would stall a graceful shutdown until the timeout: answer with `connection: close` then.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    rememberRefusal(reply, payload);
    const missing = missingBodyError(req, reply, payload);
    if (missing) {
      done(missing);
      return;
    }
    done(null, payload);
  });

  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    runWithRequestId(req.id, done, { routine: requestLog.isRoutine(req) });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ message: `route ${req.method} ${req.url.split('?')[0]} not found` });
  });

  app.setErrorHandler((error: FastifyError | HttpError | ZodError | Error, req, reply) => {
    // Logged with a 4xx's reason (request-log.ts): who refused, the framework or the route.
    rememberErrorCode(reply, error);
    if (error instanceof ZodError) {
      const fields = fieldErrors(error);
      reply.code(400).send({
        message: `invalid request: ${Object.entries(fields)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')}`,
        fields,
      });
      return;
    }
    if (error instanceof HttpError) {
      if (error.statusCode >= 500)
        req.log.error({ err: error, method: req.method, url: req.url }, error.message);
      // A 5xx carries the request id in its body too: what to paste into `devctl trace <id>`.
      const requestId = error.statusCode >= 500 ? { requestId: req.id } : {};
      reply.code(error.statusCode).send({ message: error.message, ...error.details, ...requestId });
      return;
    }
    if (isResponseSerializationError(error)) {
      // The service broke its own contract: say so here, at the service that did, with the route
      // and each offending field, so the callers' relayed 5xx lead back to this line.
      const contract = responseContractError(
        error,
        reply.statusCode,
        declaredAt.get(`${error.method} ${error.url}`),
      );
      req.log.error(
        {
          err: contract,
          method: req.method,
          url: req.url,
          route: contract.route,
          // A list, not a map keyed by field: the logger redacts keys such as `passwordHash`.
          mismatches: Object.entries(contract.fields).map(([field, problem]) => ({ field, problem })),
        },
        `${options.service} ${contract.message}`,
      );
      reply.code(500).send({
        message: `${options.service} answered ${contract.route} with a body that breaks its response schema`,
        requestId: req.id,
      });
      return;
    }
    const status = (error as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      reply.code(status).send({ message: error.message });
      return;
    }
    req.log.error(
      { err: error, method: req.method, url: req.url },
      `unhandled error in ${req.method} ${req.url}`,
    );
    reply.code(500).send({ message: 'internal server error', requestId: req.id });
  });

  // Probed by devctl (status, diagnose, --wait), the gateway's /api/health and other services' /ready.
  app.get('/health', { config: { routine: true } }, async () => ({
    status: 'ok',
    service: options.service,
    pid: process.pid,
    uptimeSeconds: Math.round(process.uptime()),
    ...(options.health ? await options.health() : {}),
  }));

  app.get('/ready', { config: { routine: true } }, async (_req, reply) => {
    const timeoutMs = options.readinessTimeoutMs ?? 2000;
    const checks: Record<string, { ok: boolean; latencyMs: number; error?: string }> = {};
    await Promise.all(
      (options.readiness ?? []).map(async ({ name, check }) => {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          checks[name] = { ok: true, latencyMs: Math.round(performance.now() - started) };
        } catch (error) {
          checks[name] = {
            ok: false,
            latencyMs: Math.round(performance.now() - started),
            error: error instanceof Error ? error.message : String(error),
          };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ready = Object.values(checks).every((c) => c.ok);
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', service: options.service, checks };
  });

  return app.withTypeProvider<ZodTypeProvider>();
}
