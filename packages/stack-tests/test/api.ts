// A small client for the public API through the gateway, as the frontend uses it.

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
  /** `METHOD path -> status body`, for assertion messages. */
  describe: string;
}

export interface ApiRequest {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Per-request bound (default 15 s): a hung service must fail the test, not stall it. */
  timeoutMs?: number;
}

export function createApi(baseUrl: string) {
  return async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    request: ApiRequest = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    return {
      status: response.status,
      body: body as T,
      headers: response.headers,
      describe: `${method} ${path} -> ${response.status} ${text.slice(0, 500)}`,
    };
  };
}

/** Polls `read` until `done` holds for its value, for at most `timeoutMs`; returns the last value. */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
