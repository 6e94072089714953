export interface WaitForHttpOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** The status that counts as up; default any 2xx. */
  expectStatus?: number;
  /** Per-attempt request timeout (default 2 s). */
  requestTimeoutMs?: number;
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
      if (ok) return response;
      const body = await response.text().catch(() => '');
      lastFailure = `status ${response.status}${body ? `: ${body.slice(0, 300)}` : ''}`;
    } catch (error) {
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
