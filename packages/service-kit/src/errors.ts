/** An error whose message is safe to show to the client, with the HTTP status to answer. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new HttpError(400, message, details);
export const unauthorized = (message = 'authentication required') => new HttpError(401, message);
export const forbidden = (message = 'forbidden') => new HttpError(403, message);
export const notFound = (message = 'not found') => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);

/**
 * A call to another service failed. 502 when it is unreachable or broken, 504 when it timed out.
 * The message names the upstream, e.g. `data-service unreachable at 127.0.0.1:3004 (ECONNREFUSED)`.
 */
export class UpstreamError extends HttpError {
  override name = 'UpstreamError';
  constructor(
    statusCode: 502 | 503 | 504,
    message: string,
    readonly upstream: string,
    readonly code: string,
  ) {
    super(statusCode, message, { upstream, code });
  }
}
