import { HttpError, UpstreamError } from './errors';
import { currentRequestId, inRoutineRequest, ROUTINE_HEADER } from './request-context';

export interface ServiceClientOptions {
  /** The upstream's PM2 name, used in every error message. */
  name: string;
  baseUrl: string;
  timeoutMs?: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  query?: Record<string, string | number | undefined>;
}

export interface ServiceClient {
  readonly name: string;
  readonly baseUrl: string;
  request<T>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  delete<T>(path: string, options?: RequestOptions): Promise<T>;
}

/** The system error code behind a failed fetch (undici nests it in `cause`), `ETIMEDOUT` for a timeout. */
export function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const c = current as { code?: unknown; cause?: unknown; name?: unknown };
    if (typeof c.code === 'string') return c.code;
    if (c.name === 'TimeoutError') return 'ETIMEDOUT';
    current = c.cause;
  }
  return 'EUNKNOWN';
}

/**
 * The error for a call to `name` (at `where`, host:port) that got no answer: 504 when it timed out
 * after `timeoutMs`, else 502 unreachable, with the system error code.
 */
export function noAnswerError(name: string, where: string, timeoutMs: number, error: unknown): UpstreamError {
  const code = errorCode(error);
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new UpstreamError(504, `${name} timed out after ${timeoutMs} ms at ${where}`, name, code);
  }
  return new UpstreamError(502, `${name} unreachable at ${where} (${code})`, name, code);
}

/** The error for a 5xx answer of `name`: a 503 or 504 is passed on, any other 5xx is a 502. */
export function failedAnswerError(name: string, status: number, message: string): UpstreamError {
  const passed: 502 | 503 | 504 = status === 503 || status === 504 ? status : 502;
  return new UpstreamError(passed, `${name} failed: ${status} ${message}`, name, `HTTP_${status}`);
}

/**
 * A JSON client for calls to another service of the stack. It forwards the current request id,
 * bounds every call with a timeout, and turns failures into errors that name the upstream:
 * 502 unreachable or broken, 504 timed out; an upstream 4xx is passed on with its message.
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const where = new URL(baseUrl).host;
  const defaultTimeout = options.timeoutMs ?? 5000;

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<T> {
    const url = new URL(baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const requestId = currentRequestId();
    if (requestId) headers['x-request-id'] = requestId;
    // A read made to answer a probe is part of the probe (the receiver honours it for reads only).
    if (method === 'GET' && inRoutineRequest()) headers[ROUTINE_HEADER] = '1';
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;

    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw noAnswerError(options.name, where, timeoutMs, error);
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const code = errorCode(error);
      const status = code === 'ETIMEDOUT' ? 504 : 502;
      throw new UpstreamError(
        status,
        `${options.name} broke off its answer at ${where} (${code})`,
        options.name,
        code,
      );
    }
    let payload: unknown;
    try {
      payload = text === '' ? undefined : JSON.parse(text);
    } catch {
      payload = { message: text.slice(0, 200) };
    }
    if (response.ok) return payload as T;

    const message =
      typeof (payload as { message?: unknown })?.message === 'string'
        ? (payload as { message: string }).message
        : response.statusText;
    if (response.status >= 500) throw failedAnswerError(options.name, response.status, message);
    const { message: _m, ...details } = (payload ?? {}) as Record<string, unknown>;
    throw new HttpError(response.status, message, Object.keys(details).length > 0 ? details : undefined);
  }

  return {
    name: options.name,
    baseUrl,
    request,
    get: (path, o) => request('GET', path, undefined, o),
    post: (path, body, o) => request('POST', path, body ?? {}, o),
    put: (path, body, o) => request('PUT', path, body ?? {}, o),
    delete: (path, o) => request('DELETE', path, undefined, o),
  };
}
