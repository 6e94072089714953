// The shapes `devctl trace` produces. `Trace` is what `devctl trace --json` prints (and the `trace`
// MCP tool returns); its fields are documented in packages/devctl/README.md.
import type { SourceLocation } from '../diagnose/types';
import type { TraceRefusal } from './refusal';

/** One parsed log line that carries a request id: the input of the pure trace builder. */
export interface TraceLine {
  /** The PM2 name of the service whose log holds the line. */
  service: string;
  stream: 'out' | 'err';
  /** ms since epoch: the pino time (ms precision), else PM2's prefix. */
  time: number;
  /** The pino object of the line. */
  record: Record<string, unknown>;
}

/** The error a service logged while it handled the request. */
export interface TraceError {
  time: string;
  /** `TypeError`, `UpstreamError`, ... (pino's err.type). */
  type: string | null;
  message: string;
  /** For a relay (the kit's UpstreamError): the service it called that failed. */
  upstream: string | null;
  /** The first frame in the project's own code, repository-relative TypeScript. */
  location: SourceLocation | null;
  /** The stack with repository-relative paths, at most a dozen frames. */
  stack: string | null;
}

/** One service's handling of the request. */
export interface TraceHop {
  service: string;
  method: string | null;
  url: string | null;
  /** The HTTP status answered, or null when it never answered. */
  status: number | null;
  /** For a 4xx: the answer's message, as the service kit logs it (`reason`), or null. */
  reason: string | null;
  /**
   * For a 4xx: the code of the error it was made from (`FST_ERR_CTP_BODY_TOO_LARGE`,
   * `FST_ERR_VALIDATION`, ...), as the service kit logs it; null for a handler's own rule.
   */
  code: string | null;
  /** Fastify's response time, or null when it never answered. */
  durationMs: number | null;
  /** ISO time the request came in (or, when that line is gone, its answer less its duration). */
  start: string;
  /** ISO time it answered, or null. */
  end: string | null;
  completed: boolean;
  /**
   * For a hop that never completed: how long ago it came in, when the trace was built (ms). Null
   * when only its error was logged (a LOG_LEVEL above info): whether it answered is unknown.
   */
  pendingMs: number | null;
  /** The process that handled it (pino's pid). */
  pid: number | null;
  /** 0 for the request that came from outside, 1 for what that one called, and so on. */
  depth: number;
  error: TraceError | null;
}

export interface SearchedLog {
  service: string;
  /** Repository-relative files read, newest first (rotated ones after the current). */
  files: string[];
  /** Bytes read from the end of them. */
  bytes: number;
  /** ISO time of the oldest line read, or null when the log was empty or missing. */
  oldest: string | null;
}

export interface Trace {
  requestId: string;
  /** ISO time of the first hop. */
  start: string;
  /** Hops in the order they came in. */
  hops: TraceHop[];
  /** True when a hop answered 5xx, logged an error or never answered. */
  failed: boolean;
  /**
   * The index in `hops` of where the failure began: the deepest hop that failed (its callers only
   * relay it), or null when nothing failed.
   */
  origin: number | null;
  /**
   * When nothing failed but the request was refused (a 4xx): who refused it -- the route's handler,
   * its schema, or Fastify or a plugin before any handler (with the setting that governs it).
   */
  refusal: TraceRefusal | null;
  /** One line: what happened to the request. */
  summary: string;
  /** The next step: the file and line to fix, or the command to run. */
  next: string;
  /** What was read to find it. */
  searched: SearchedLog[];
}
