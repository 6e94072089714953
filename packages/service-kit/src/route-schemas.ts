// Route schemas in zod, through Fastify's own model: a route declares `schema: { params, querystring,
// body, response: { 200: ... } }` and Fastify validates the input and checks the answer against it.
// The answer is checked by fastify-type-provider-zod's serializer compiler; the input by the kit's
// own compiler below, so that a bad input answers exactly the 400 that `parseInput` always did.
import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { ResponseSerializationError } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { HttpError } from './errors';
import { fieldErrors, parseInput } from './validation';

export type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
export { serializerCompiler } from 'fastify-type-provider-zod';

/** How a 400 names the part of the request that is wrong (the words parseInput's callers used). */
const PART_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'query string',
  params: 'path',
  headers: 'headers',
};

/**
 * Fastify hands a body validator `null` when the request has no body, so a JSON `null` and no body
 * at all would read the same; the 400 has always said which (`received undefined` / `received
 * null`). A preValidation hook marks the missing body with this value, which the validator reads
 * as `undefined`.
 */
const NO_BODY = Object.freeze({ noBody: Symbol('no body') });

export function markMissingBody(req: FastifyRequest): void {
  if (req.body === undefined && req.routeOptions.schema?.body !== undefined) req.body = NO_BODY;
}

/**
 * Validates a route's params, query string, body or headers with its zod schema. A failure is the
 * same `HttpError` 400 as `parseInput` throws (`invalid request body: title: ...`, with `fields`),
 * returned as an Error so Fastify hands it to the kit's error handler untouched.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    try {
      const input = data === NO_BODY ? undefined : data;
      return { value: parseInput(schema, input, PART_NAMES[httpPart ?? ''] ?? httpPart) };
    } catch (error) {
      return { error: error as HttpError };
    }
  };

/**
 * A handler answered a body that breaks the route's response schema: the service broke its own
 * contract (a renamed or missing field, a wrong type). Without this check the caller would read
 * `undefined` and answer 200 with an empty body, and nothing would be logged anywhere.
 */
export class ResponseContractError extends Error {
  override name = 'ResponseContractError';
  constructor(
    /** `GET /forms`: the route as declared. */
    readonly route: string,
    /** The status the handler meant to answer. */
    readonly intendedStatus: number,
    /** `{ forms: 'Invalid input: expected array, received undefined', items: 'unknown field' }`. */
    readonly fields: Record<string, string>,
    /** The stack of the route's declaration: the answer is checked after the handler returned. */
    declaredAt: string | undefined,
  ) {
    super(
      `${route} answered ${intendedStatus} with a body that breaks its response schema: ${Object.entries(
        fields,
      )
        .map(([field, problem]) => `${field}: ${problem}`)
        .join('; ')}`,
    );
    // The check runs in Fastify's serializer, after the handler has returned: no frame of the route's
    // own code is on the stack of the moment. Where the route (handler and schema) is declared is
    // where the fix goes, so that is the stack this error carries -- and what devctl diagnose reads
    // as `where:`.
    if (declaredAt !== undefined) this.stack = `${this.name}: ${this.message}\n${declaredAt}`;
  }
}

/** The response schema a route declares for `status`: exact, then `2xx`-style, then `default`. */
function responseSchemaFor(req: FastifyRequest, status: number): z.ZodType | undefined {
  const response = req.routeOptions.schema?.response as Record<string, unknown> | undefined;
  if (!response) return undefined;
  const schema = response[status] ?? response[`${String(status)[0]}xx`] ?? response.default;
  return schema && typeof (schema as z.ZodType).safeParse === 'function' ? (schema as z.ZodType) : undefined;
}

/**
 * An answer with no body at all never reaches the serializer: Fastify sends a handler's `undefined`
 * as an empty 200, the fault of a user trial (a renamed field read as `undefined` one service up).
 * For a route that declares a body for that status, this is the same broken contract; an onSend
 * hook turns it into the same error, which the kit's error handler logs and answers with a 500.
 */
export function missingBodyError(
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): ResponseSerializationError | undefined {
  if (payload !== undefined || reply.statusCode === 204 || reply.statusCode === 304) return undefined;
  const result = responseSchemaFor(req, reply.statusCode)?.safeParse(undefined);
  if (!result || result.success) return undefined;
  return new ResponseSerializationError(req.method, req.routeOptions.url ?? req.url, {
    cause: result.error as never,
  });
}

export function isResponseSerializationError(error: unknown): error is ResponseSerializationError {
  return error instanceof ResponseSerializationError;
}

/** The frames of the caller's stack below the kit and Fastify: taken when a route is declared. */
export function declarationStack(): string | undefined {
  const limit = Error.stackTraceLimit;
  // Fastify's route registration and avvio's plugin loading put about ten frames above the route file.
  Error.stackTraceLimit = 40;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  // Drop the `Error` line and this function's own frame.
  return stack?.split('\n').slice(2).join('\n');
}

export function responseContractError(
  error: ResponseSerializationError,
  intendedStatus: number,
  declaredAt: string | undefined,
): ResponseContractError {
  return new ResponseContractError(
    `${error.method} ${error.url}`,
    intendedStatus,
    fieldErrors(error.cause as unknown as z.ZodError),
    declaredAt,
  );
}
