import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestContext {
  requestId: string;
  /** Serving routine machinery (a probe, a poll): the reads it makes are routine too. */
  routine?: boolean;
}

/**
 * Sent by the kit's client on the reads it makes while serving a routine request (worker-service's
 * /health asks data-service for queue figures): they are part of the probe.
 */
export const ROUTINE_HEADER = 'x-routine-request';

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with a request id that the service client forwards as `x-request-id`. */
export function runWithRequestId<T>(requestId: string, fn: () => T, options: { routine?: boolean } = {}): T {
  return storage.run({ requestId, routine: options.routine }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** True while serving a routine request (see `routine` in app.ts). */
export function inRoutineRequest(): boolean {
  return storage.getStore()?.routine === true;
}
