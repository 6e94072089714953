// A small HTTP client for tests that talk to real processes: every call is bounded in time, so a
// hung service fails the test with the request named instead of stalling it.

export interface Answer<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
  /** `METHOD url -> status body`, for assertion messages. */
  describe: string;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is (not JSON-encoded), for malformed bodies. */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: payload,
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
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
    text,
    headers: response.headers,
    describe: `${method} ${path.slice(0, 150)} -> ${response.status} ${text.slice(0, 400)}`,
  };
}

/**
 * Signs a new owner up through the gateway and creates the survey the load tests submit to (a required
 * name, a required number `n`); throws with the answer when either call fails. Returns the form's id.
 */
export async function createSurvey(gateway: string, label: string): Promise<string> {
  const owner = await call<{ token: string }>(gateway, 'POST', '/api/auth/signup', {
    body: {
      email: `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`,
      password: `${label} survey owner`,
    },
  });
  if (owner.status !== 201) throw new Error(`signing the survey's owner up failed: ${owner.describe}`);
  const form = await call<{ id: string }>(gateway, 'POST', '/api/forms', {
    token: owner.body.token,
    body: {
      title: `${label} survey`,
      fields: [
        { name: 'name', label: 'Name', type: 'text', required: true },
        { name: 'n', label: 'Sequence', type: 'number', required: true },
      ],
    },
  });
  if (form.status !== 201) throw new Error(`creating the survey failed: ${form.describe}`);
  return form.body.id;
}

/** Polls `read` until `done` holds, for at most `timeoutMs`; returns the last value. */
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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
