// Load on the public submission route, and the bookkeeping that proves nothing was lost: which
// submissions were acknowledged, what the database holds afterwards, and how many confirmation
// emails each stored submission got.
import autocannon from 'autocannon';
import { call, pollUntil } from './http';
import { readOutbox } from './outbox';

export interface SubmissionLoadOptions {
  gatewayUrl: string;
  formId: string;
  /** How many requests in all (autocannon `amount`). */
  requests: number;
  connections: number;
  /** Per-request client timeout, in seconds. */
  timeoutSeconds: number;
  /** The load is stopped after this long whatever is left. */
  boundMs: number;
  /**
   * Requests per second from all connections together (autocannon `overallRate`); unset: as fast
   * as the stack answers. A paced load lasts long enough for faults planned during it.
   */
  ratePerSecond?: number;
}

export interface SubmissionLoadOutcome {
  result: autocannon.Result;
  /** Submission ids answered 2xx. */
  acknowledged: Set<string>;
  byStatus: Map<number, number>;
  slowestByStatus: Map<number, number>;
  /** The first body of each non-2xx status. */
  samples: Map<number, string>;
  seconds: number;
}

export interface SubmissionLoad {
  /** Resolves when the amount is done, the bound is reached or stop() was called. */
  done: Promise<SubmissionLoadOutcome>;
  /** Ends the load now (requests in flight are not waited for). */
  stop(): void;
  /**
   * Requests sent and answered so far: read before and after a fault to prove that requests were
   * in flight while it happened (a paced load sends few, so this is checked, not assumed).
   */
  progress(): { sent: number; answered: number };
}

/**
 * Starts autocannon on `POST /api/forms/:id/submissions` (answers `{name, n}`), 127.0.0.1 only
 * since the gateway URL is.
 */
export function startSubmissionLoad(options: SubmissionLoadOptions): SubmissionLoad {
  const acknowledged = new Set<string>();
  const byStatus = new Map<number, number>();
  const slowestByStatus = new Map<number, number>();
  const samples = new Map<number, string>();
  let sequence = 0;
  let answered = 0;
  const startedAt = performance.now();
  let stop = () => {};
  const done = new Promise<SubmissionLoadOutcome>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.gatewayUrl,
        connections: options.connections,
        amount: options.requests,
        timeout: options.timeoutSeconds,
        ...(options.ratePerSecond ? { overallRate: options.ratePerSecond } : {}),
        requests: [
          {
            method: 'POST',
            path: `/api/forms/${options.formId}/submissions`,
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => {
              sequence++;
              return {
                ...request,
                body: JSON.stringify({ answers: { name: `load ${sequence}`, n: sequence } }),
              };
            },
            onResponse: (status, body) => {
              answered++;
              byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
              if (status >= 200 && status < 300) acknowledged.add((JSON.parse(body) as { id: string }).id);
              else if (!samples.has(status)) samples.set(status, body.slice(0, 300));
            },
          },
        ],
      },
      (error, result) => {
        clearTimeout(bound);
        if (error) reject(error);
        else
          resolve({
            result,
            acknowledged,
            byStatus,
            slowestByStatus,
            samples,
            seconds: (performance.now() - startedAt) / 1000,
          });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      slowestByStatus.set(status, Math.max(slowestByStatus.get(status) ?? 0, Math.round(responseTime)));
    });
    const bound = setTimeout(() => instance.stop(), options.boundMs);
    stop = () => instance.stop();
  });
  return { done, stop: () => stop(), progress: () => ({ sent: sequence, answered }) };
}

export interface QueueStats {
  pending: number;
  running: number;
  done: number;
  dead: number;
}

export interface NothingLostReport {
  queue: QueueStats;
  /** Seconds until the queue had no pending or running job (or the bound). */
  drainSeconds: number;
  stored: Set<string>;
  emails: number;
  ackedNotStored: string[];
  /** Stored submissions without a confirmation email. */
  lostEmails: string[];
  /** Submissions with more than one email. */
  duplicated: [string, number][];
  /** Emails that name no stored submission. */
  strayEmails: string[];
}

/** Waits for the queue to drain (bounded), then compares acknowledged, stored and emailed. */
export async function checkNothingLost(options: {
  dataUrl: string;
  formId: string;
  outboxDir: string;
  acknowledged: Set<string>;
  drainBoundMs: number;
}): Promise<NothingLostReport> {
  const started = performance.now();
  const queue = await pollUntil(
    async () => (await call<QueueStats>(options.dataUrl, 'GET', '/jobs/stats')).body,
    (s) => s.pending === 0 && s.running === 0,
    options.drainBoundMs,
    500,
  );
  const drainSeconds = (performance.now() - started) / 1000;
  const listed = await call<{ submissions: { id: string }[] }>(
    options.dataUrl,
    'GET',
    `/forms/${options.formId}/submissions`,
    { timeoutMs: 60_000 },
  );
  if (listed.status !== 200) throw new Error(`cannot list the stored submissions: ${listed.describe}`);
  const stored = new Set(listed.body.submissions.map((s) => s.id.toLowerCase()));
  const emails = readOutbox(options.outboxDir);
  const perSubmission = new Map<string, number>();
  for (const email of emails) {
    if (email.submissionId)
      perSubmission.set(email.submissionId, (perSubmission.get(email.submissionId) ?? 0) + 1);
  }
  return {
    queue,
    drainSeconds,
    stored,
    emails: emails.length,
    ackedNotStored: [...options.acknowledged].filter((id) => !stored.has(id.toLowerCase())),
    lostEmails: [...stored].filter((id) => !perSubmission.has(id)),
    duplicated: [...perSubmission].filter(([, count]) => count > 1),
    strayEmails: emails.filter((e) => !e.submissionId || !stored.has(e.submissionId)).map((e) => e.file),
  };
}

/** `201: 1748 (slowest 1428 ms), 502: 652 (slowest 1477 ms)`. */
export function statusLine(outcome: SubmissionLoadOutcome): string {
  return [...outcome.byStatus]
    .sort(([a], [b]) => a - b)
    .map(
      ([status, count]) => `${status}: ${count} (slowest ${outcome.slowestByStatus.get(status) ?? '?'} ms)`,
    )
    .join(', ');
}

/** Statuses other than 2xx and a clean 502/503/504. */
export function uncleanStatuses(outcome: SubmissionLoadOutcome): [number, number][] {
  return [...outcome.byStatus].filter(
    ([status]) => !(status >= 200 && status < 300) && ![502, 503, 504].includes(status),
  );
}
