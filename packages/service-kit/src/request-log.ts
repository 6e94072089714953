// What a service logs per request. Every request is logged at info ("incoming request", "request
// completed", both with its reqId), except routine machinery -- health and readiness probes, a job
// poll -- which is logged at debug when it answers below 400 within the slow threshold: devctl's
// probes and the worker's polls otherwise bury what the service did. A routine request that fails
// (4xx, 5xx) or is slow is logged at info or warn, with its method and url. A routine request that
// hangs is not seen at info (LOG_LEVEL=debug shows its "incoming request").
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { ROUTINE_HEADER } from './request-context';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Routine machinery (a probe, a poll): not logged at info when it succeeds in time. A handler
     * that changes state (a poll that claims a job) logs that change itself, with `req.log`.
     */
    routine?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A refusal's reason longer than this is cut: a log line, not a copy of the answer. */
const MAX_REASON = 300;

/** The `message` of each 4xx answer, from onSend to the "request completed" line. */
const refusals = new WeakMap<FastifyReply, string>();

/**
 * Keeps the `message` of a 4xx answer (thrown, sent by a handler, or relayed from an upstream) for
 * its "request completed" line. Without it a refused request is logged as a bare 400: in a user
 * trial, a validation rule broken by a commit ("must be one of: red, blue" for "red") left only
 * `statusCode: 400` in every log of the chain, and the reason was seen only by replaying the call.
 */
export function rememberRefusal(reply: FastifyReply, payload: unknown): void {
  if (reply.statusCode < 400 || reply.statusCode >= 500 || typeof payload !== 'string') return;
  if (payload.length > 64 * 1024 || !payload.startsWith('{')) return;
  try {
    const message = (JSON.parse(payload) as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') {
      refusals.set(reply, message.length > MAX_REASON ? `${message.slice(0, MAX_REASON)}...` : message);
    }
  } catch {
    // Not JSON: nothing to keep.
  }
}

/** The error code (`FST_ERR_CTP_BODY_TOO_LARGE`, ...) of each answer the error handler sent. */
const errorCodes = new WeakMap<FastifyReply, string>();

/**
 * Keeps the `code` of the error an answer was made from, for a 4xx's "request completed" line.
 * Fastify and its plugins refuse some requests before any handler runs (a body over the limit, a
 * content type no parser takes, a route schema's validation) and their message alone reads like a
 * handler's rule: a user trial followed "Request body is too large" into the route's handler, when
 * the service's body-limit setting had refused it. The code says who refused.
 */
export function rememberErrorCode(reply: FastifyReply, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') errorCodes.set(reply, code);
}

/** `reason` and `code` of a 4xx answer, as far as they are known. */
function refusalOf(reply: FastifyReply): { reason?: string; code?: string } {
  if (reply.statusCode < 400 || reply.statusCode >= 500) return {};
  const reason = refusals.get(reply);
  const code = errorCodes.get(reply);
  return { ...(reason !== undefined ? { reason } : {}), ...(code !== undefined ? { code } : {}) };
}

/** Above this, any request is slow: a probe that takes that long is logged whatever it answered. */
export const DEFAULT_SLOW_REQUEST_MS = 1000;

/** Fastify's own request logging (its LogController), with routine requests kept below info. */
export class ServiceLogController extends LogController {
  constructor(
    private readonly slowRequestMs: number,
    /** False at the stack's edge (the gateway): a client must not keep its reads out of the logs. */
    private readonly honourRoutineHeader = true,
  ) {
    super();
  }

  isRoutine(request: FastifyRequest): boolean {
    if (request.routeOptions.config?.routine === true) return true;
    // Honoured for safe methods only, so the header can never hide a request that changes something.
    return (
      this.honourRoutineHeader && SAFE_METHODS.has(request.method) && request.headers[ROUTINE_HEADER] === '1'
    );
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.isRoutine(request)) {
      super.incomingRequest(request, reply);
      return;
    }
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const refusal = refusalOf(reply);
    const refused = refusal.reason !== undefined || refusal.code !== undefined;
    if (error || !this.isRoutine(request)) {
      if (!error && refused) {
        // Fastify's own line, with why the request was refused and, when an error said, by whom.
        reply.log.info({ res: reply, responseTime: reply.elapsedTime, ...refusal }, 'request completed');
        return;
      }
      super.requestCompleted(error, request, reply);
      return;
    }
    const responseTime = reply.elapsedTime;
    const slow = responseTime >= this.slowRequestMs;
    const failed = reply.statusCode >= 400;
    if (!slow && !failed) {
      reply.log.debug({ res: reply, responseTime }, 'request completed');
      return;
    }
    // Its "incoming request" line was not written at info: this one says what was asked, with
    // method and url at the top as the kit's error lines have them (diagnose reads either).
    const fields = {
      method: request.method,
      url: request.url,
      res: reply,
      responseTime,
      routine: true,
      ...refusal,
      ...(slow ? { slow: true, slowRequestMs: this.slowRequestMs } : {}),
    };
    if (slow || reply.statusCode >= 500) reply.log.warn(fields, 'request completed');
    else reply.log.info(fields, 'request completed');
  }
}
