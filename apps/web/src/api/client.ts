// The one place that talks HTTP: every call goes to api-gateway under /api (the route table of
// services/api-gateway/README.md) and every failure becomes an ApiError that names the service.

export type FieldType = 'text' | 'email' | 'number' | 'choice';
export const FIELD_TYPES: readonly FieldType[] = ['text', 'email', 'number', 'choice'];

export interface FormField {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  options?: string[];
}

export interface NewForm {
  title: string;
  fields: FormField[];
}

export interface Form extends NewForm {
  id: string;
  ownerId?: string;
  createdAt?: string;
}

export type AnswerValue = string | number;

export interface Submission {
  id: string;
  formId?: string;
  answers: Record<string, unknown>;
  createdAt?: string;
}

export interface User {
  id: string;
  email: string;
}

export interface ServiceHealth {
  status: string;
  latencyMs?: number;
  [detail: string]: unknown;
}

export interface HealthReport {
  services: Record<string, ServiceHealth>;
}

/** A failed call: `service` is the backend that failed (PM2 name), `fields` the invalid inputs of a 400. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly service: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }

  /** True when the service could not be reached or broke (502, 503, 504), not when it refused the input. */
  get unavailable(): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504;
  }

  /** The sentence shown to the user. */
  get summary(): string {
    return this.unavailable ? `${this.service} is unavailable: ${this.message}` : this.message;
  }
}

/**
 * The backend behind each hand-written public path, for errors whose answer does not name it. The
 * routes `devctl new service --route` adds need no entry: the gateway names their service in the
 * `x-upstream` header of every answer it passes on.
 */
export function serviceForPath(path: string): string {
  if (path.startsWith('/api/auth')) return 'auth-service';
  if (path.startsWith('/api/forms')) return 'form-service';
  return 'api-gateway';
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toApiError(
  status: number,
  path: string,
  body: unknown,
  rawText: string,
  headerUpstream: string | null = null,
): ApiError {
  const payload = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const upstream = typeof payload.upstream === 'string' ? payload.upstream : undefined;
  const named = typeof payload.service === 'string' ? payload.service : undefined;
  if (status >= 500 && body === undefined) {
    // Not the gateway's JSON: something between the page and the gateway answered (a proxy, a
    // server that is not the gateway).
    const detail = rawText.trim().slice(0, 200) || `HTTP ${status} with no body`;
    return new ApiError(Math.max(status, 502), `no JSON answer through /api (${detail})`, 'api-gateway');
  }
  const message =
    typeof payload.message === 'string' && payload.message !== '' ? payload.message : `HTTP ${status}`;
  const fields: Record<string, string> = {};
  if (payload.fields && typeof payload.fields === 'object') {
    for (const [name, problem] of Object.entries(payload.fields as Record<string, unknown>)) {
      fields[name] = typeof problem === 'string' ? problem : JSON.stringify(problem);
    }
  }
  return new ApiError(status, message, upstream ?? named ?? headerUpstream ?? serviceForPath(path), fields);
}

/** Some routes answer a bare array, others `{<key>: [...]}`; the page wants the array. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const inner = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(inner) ? (inner as T[]) : [];
}

export interface ApiOptions {
  /** Origin of the gateway's /api; '' means this page's own origin (the dev server proxies /api). */
  baseUrl?: string;
  getToken?: () => string | null;
}

export function createApi({ baseUrl = '', getToken = () => null }: ApiOptions = {}) {
  /**
   * `acceptError` lets a route keep an error answer that still carries what the page needs (the
   * gateway may answer /api/health with 503 and the health of each service).
   */
  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    acceptError: (parsed: unknown) => boolean = () => false,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      // The page's own server is gone (the dev server was stopped) or the network is down.
      throw new ApiError(
        0,
        `the request did not reach the server (${(error as Error).message})`,
        'api-gateway',
      );
    }
    const text = await response.text();
    const parsed = parseBody(text);
    if (!response.ok && !acceptError(parsed))
      throw toApiError(response.status, path, parsed, text, response.headers.get('x-upstream'));
    return parsed as T;
  }

  return {
    signup: (email: string, password: string) =>
      request<{ user: User; token: string }>('POST', '/api/auth/signup', { email, password }),
    login: (email: string, password: string) =>
      request<{ token: string }>('POST', '/api/auth/login', { email, password }),
    me: () => request<User>('GET', '/api/auth/me'),
    createForm: (form: NewForm) => request<Form>('POST', '/api/forms', form),
    listForms: async () => listOf<Form>(await request('GET', '/api/forms'), 'forms'),
    getForm: (id: string) => request<Form>('GET', `/api/forms/${encodeURIComponent(id)}`),
    submit: (id: string, answers: Record<string, AnswerValue>) =>
      request<{ id: string }>('POST', `/api/forms/${encodeURIComponent(id)}/submissions`, { answers }),
    listSubmissions: async (id: string) =>
      listOf<Submission>(
        await request('GET', `/api/forms/${encodeURIComponent(id)}/submissions`),
        'submissions',
      ),
    health: () =>
      request<HealthReport>('GET', '/api/health', undefined, (parsed) =>
        Boolean(parsed && typeof (parsed as HealthReport).services === 'object'),
      ),
  };
}

export type Api = ReturnType<typeof createApi>;
