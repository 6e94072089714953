export interface WaitForHttpOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** The status that counts as up; default any 2xx. */
  expectStatus?: number;
  /** Per-attempt request timeout (default 2 s). */
  requestTimeoutMs?: number;
  /**
   * The pid that must answer (the kit's /health says `pid`). A port picked free can be taken by
   * another test's process before the one started on it binds; that process's 2xx is not this
   * one's: waitForHttp then throws a PortTakenError at once, and the caller picks another port.
   */
  pid?: number;
}

/** The port answered, but from another process than the one started on it. */
export class PortTakenError extends Error {
  constructor(
    readonly url: string,
    readonly answeringPid: unknown,
  ) {
    super(`${url} is answered by pid ${String(answeringPid)}, another process than the one started on it`);
  }
}

/**
 * Polls `url` until it answers with the expected status and returns that response. On timeout the
 * error names the url and the last failure (status or network error), which is what a reader needs
 * to tell "not started" from "started but unhealthy".
 */
export async function waitForHttp(url: string, options: WaitForHttpOptions = {}): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 100;
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const deadline = Date.now() + timeoutMs;
  let lastFailure = 'no attempt made';
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(requestTimeoutMs) });
      const ok = options.expectStatus === undefined ? response.ok : response.status === options.expectStatus;
      if (ok && options.pid !== undefined) {
        const body = (await response
          .clone()
          .json()
          .catch(() => ({}))) as { pid?: unknown };
        if (body.pid !== options.pid) throw new PortTakenError(url, body.pid);
      }
      if (ok) return response;
      const body = await response.text().catch(() => '');
      lastFailure = `status ${response.status}${body ? `: ${body.slice(0, 300)}` : ''}`;
    } catch (error) {
      if (error instanceof PortTakenError) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      lastFailure = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    }
    if (Date.now() + intervalMs > deadline) {
      throw new Error(
        `${url} did not answer ${options.expectStatus ?? '2xx'} within ${timeoutMs} ms; last failure: ${lastFailure}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
