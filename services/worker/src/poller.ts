import { HttpError, type Logger, type ServiceClient } from '@repo/service-kit';
import type { Job, JobContext, JobHandler } from './types';

export interface JobPollerOptions {
  data: ServiceClient;
  context: JobContext;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  workerName: string;
  pollIntervalMs: number;
  batchSize: number;
  leaseMs: number;
}

export interface PollerStatus {
  worker: string;
  polling: boolean;
  inFlight: number;
  processed: number;
  failed: number;
  lastClaimAt: string | null;
  lastError: { jobId: string; type: string; message: string; at: string } | null;
}

/** An error's message for logs and the job's lastError; never empty, since data-service requires one. */
const message = (error: unknown) => {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text.trim() === '' ? `${error instanceof Error ? error.name : 'error'} without a message` : text
  ).slice(0, 2000);
};

/**
 * Claims jobs from data-service and runs them: at least once, since a job whose ack is lost is
 * handed out again when its lease ends; handlers make that harmless by sending under the job's
 * idempotency key. Retries and backoff are data-service's: a failed job is reported with `fail`.
 */
/**
 * A 4xx answer other than the ones a retry can outlast (408 timeout, 409 conflict, 425, 429 rate
 * limit): the upstream refused what this job sent.
 */
function refusedRequest(error: unknown): boolean {
  return (
    error instanceof HttpError &&
    error.statusCode >= 400 &&
    error.statusCode < 500 &&
    ![408, 409, 425, 429].includes(error.statusCode)
  );
}

export class JobPoller {
  private processed = 0;
  private failed = 0;
  private inFlight = 0;
  private lastClaimAt: Date | null = null;
  private lastError: PollerStatus['lastError'] = null;
  private polling = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private dataServiceDown = false;

  constructor(private readonly options: JobPollerOptions) {}

  start(): void {
    if (this.polling) return;
    this.polling = true;
    this.options.logger.info(
      `worker ${this.options.workerName} polling data-service every ${this.options.pollIntervalMs} ms for ${Object.keys(this.options.handlers).join(', ')}`,
    );
    this.loop = this.run();
  }

  /** Stops claiming, and resolves once the jobs already claimed have finished (acked or failed). */
  async stop(): Promise<void> {
    if (!this.polling && !this.loop) return;
    this.polling = false;
    this.wake?.();
    const busy = this.inFlight;
    if (busy > 0) this.options.logger.info(`stopping: waiting for ${busy} job(s) in flight`);
    await this.loop;
    this.loop = undefined;
    this.options.logger.info('stopped polling');
  }

  status(): PollerStatus {
    return {
      worker: this.options.workerName,
      polling: this.polling,
      inFlight: this.inFlight,
      processed: this.processed,
      failed: this.failed,
      lastClaimAt: this.lastClaimAt?.toISOString() ?? null,
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    while (this.polling) {
      const jobs = await this.claim();
      if (jobs.length > 0) {
        // Claimed jobs are ours until their lease ends: run them even if stop() came meanwhile.
        await Promise.all(jobs.map((job) => this.runJob(job)));
        continue;
      }
      await this.sleep(this.options.pollIntervalMs);
    }
  }

  private async claim(): Promise<Job[]> {
    try {
      const { jobs } = await this.options.data.post<{ jobs: Job[] }>('/jobs/claim', {
        worker: this.options.workerName,
        limit: this.options.batchSize,
        leaseMs: this.options.leaseMs,
        types: Object.keys(this.options.handlers),
      });
      this.lastClaimAt = new Date();
      if (this.dataServiceDown) {
        this.dataServiceDown = false;
        this.options.logger.info('data-service answers again, claiming jobs');
      }
      return jobs;
    } catch (error) {
      // Logged once per outage, not at every poll.
      if (!this.dataServiceDown) {
        this.dataServiceDown = true;
        this.options.logger.error(
          { err: error },
          `cannot claim jobs: ${message(error)}; retrying every ${this.options.pollIntervalMs} ms`,
        );
      }
      return [];
    }
  }

  private async runJob(job: Job): Promise<void> {
    const { handlers, logger } = this.options;
    const log = logger.child({
      jobId: job.id,
      jobType: job.type,
      idempotencyKey: job.idempotencyKey,
      attempt: job.attempts,
    });
    const started = performance.now();
    this.inFlight++;
    try {
      try {
        const handler = handlers[job.type];
        if (!handler) throw new Error(`no handler for job type ${job.type} in worker-service`);
        await handler(job, this.options.context);
      } catch (error) {
        this.failed++;
        const reason = message(error);
        this.lastError = { jobId: job.id, type: job.type, message: reason, at: new Date().toISOString() };
        const final = job.attempts >= job.maxAttempts;
        const refused = refusedRequest(error);
        // A retry is routine (warn); the last attempt loses what the job was for (an email the user
        // expects): an error, with its stack, so devctl diagnose reports it with its source line.
        // So is a request the upstream refused (a 4xx): every retry sends the same request and
        // fails the same way, so it is an error from the first attempt (trial 4: a renamed field in
        // the email request was warnings for 15 s, and diagnose said "stack healthy" meanwhile).
        log[final || refused ? 'error' : 'warn'](
          { err: error },
          `job ${job.id} (${job.type}) failed on attempt ${job.attempts}/${job.maxAttempts}${final ? ', giving up: it goes dead' : refused ? `: the request was refused (${(error as HttpError).statusCode}), and every retry sends the same one` : ', data-service retries it'}: ${reason}`,
        );
        await this.report(job, 'fail', { leaseToken: job.leaseToken, error: reason }, log);
        return;
      }
      if (await this.report(job, 'ack', { leaseToken: job.leaseToken }, log)) {
        this.processed++;
        log.info(`job ${job.id} (${job.type}) done in ${Math.round(performance.now() - started)} ms`);
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Acks or fails a job; never throws, since the lease expiring is the fallback either way. */
  private async report(job: Job, verb: 'ack' | 'fail', body: object, log: Logger): Promise<boolean> {
    try {
      await this.options.data.post(`/jobs/${encodeURIComponent(job.id)}/${verb}`, body);
      return true;
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 409) {
        log.warn(
          `job ${job.id}: lease lost before ${verb} (it ran past ${this.options.leaseMs} ms and was handed out again)`,
        );
      } else {
        log.error(
          { err: error },
          `job ${job.id}: ${verb} failed: ${message(error)}; the job runs again when its lease ends`,
        );
      }
      return false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
