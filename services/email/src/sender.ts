import { HttpError, type Logger, type ServiceClient, UpstreamError } from '@repo/service-kit';
import type { Delivery, MailTransport, OutgoingEmail } from './transports/types';

export interface SendResult {
  messageId: string;
  transport: 'outbox' | 'smtp';
  duplicate: boolean;
}

interface SentEmailRecord {
  idempotencyKey: string;
  to: string;
  subject: string;
  transport: 'outbox' | 'smtp';
  messageId: string;
  sentAt: string;
}

/** How many sent-but-unrecorded keys this process remembers (they are dropped once recorded). */
const UNRECORDED_LIMIT = 10_000;

/**
 * Sends each idempotency key at most once. The durable proof is data-service's `/emails` record
 * (and, for the outbox, the file itself): it is checked before sending and written after. Between
 * the two, concurrent calls for one key share one attempt, and a key whose record could not be
 * written is remembered so a retry records it instead of sending again.
 */
export class EmailSender {
  private readonly inFlight = new Map<string, Promise<SendResult>>();
  private readonly unrecorded = new Map<string, Delivery>();

  constructor(
    private readonly transport: MailTransport,
    private readonly data: ServiceClient,
    private readonly logger: Logger,
  ) {}

  async send(email: OutgoingEmail): Promise<SendResult> {
    const running = this.inFlight.get(email.idempotencyKey);
    if (running) return { ...(await running), duplicate: true };
    const attempt = this.sendOnce(email);
    this.inFlight.set(email.idempotencyKey, attempt);
    try {
      return await attempt;
    } finally {
      this.inFlight.delete(email.idempotencyKey);
    }
  }

  private async sendOnce(email: OutgoingEmail): Promise<SendResult> {
    const key = email.idempotencyKey;
    const remembered = this.unrecorded.get(key);
    if (remembered) {
      await this.record(email, remembered);
      return { messageId: remembered.messageId, transport: this.transport.name, duplicate: true };
    }

    const existing = await this.findRecord(key);
    if (existing) {
      this.logger.info(
        { idempotencyKey: key, messageId: existing.messageId },
        `email ${key} already sent, not again`,
      );
      return { messageId: existing.messageId, transport: existing.transport, duplicate: true };
    }

    const delivery = await this.deliver(email);
    this.remember(key, delivery);
    await this.record(email, delivery);
    this.logger.info(
      {
        idempotencyKey: key,
        messageId: delivery.messageId,
        transport: this.transport.name,
        duplicate: delivery.duplicate,
      },
      delivery.duplicate ? `email ${key} found in the outbox, recorded` : `email ${key} sent to ${email.to}`,
    );
    return { messageId: delivery.messageId, transport: this.transport.name, duplicate: delivery.duplicate };
  }

  /** The transport's failure as an answer the caller (the worker, into the job's lastError) can act on. */
  private async deliver(email: OutgoingEmail): Promise<Delivery> {
    try {
      return await this.transport.deliver(email);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const where = this.transport.describe();
      const target =
        this.transport.name === 'smtp' ? `SMTP server ${where.smtp}` : `outbox folder ${where.outboxDir}`;
      this.logger.error(
        { err: error, idempotencyKey: email.idempotencyKey },
        `email ${email.idempotencyKey} not sent: ${reason}`,
      );
      throw new HttpError(
        this.transport.name === 'smtp' ? 502 : 500,
        `email ${email.idempotencyKey} not sent: ${target} failed: ${reason}`,
      );
    }
  }

  private async findRecord(key: string): Promise<SentEmailRecord | undefined> {
    try {
      return await this.data.get<SentEmailRecord>(`/emails/${encodeURIComponent(key)}`);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) return undefined;
      if (error instanceof UpstreamError) {
        throw new UpstreamError(
          error.statusCode as 502 | 503 | 504,
          `cannot tell whether email ${key} was already sent, so it was not sent: ${error.message}`,
          error.upstream,
          error.code,
        );
      }
      throw error;
    }
  }

  private async record(email: OutgoingEmail, delivery: Delivery): Promise<void> {
    try {
      await this.data.post('/emails', {
        idempotencyKey: email.idempotencyKey,
        to: email.to,
        subject: email.subject,
        transport: this.transport.name,
        messageId: delivery.messageId,
      });
      this.unrecorded.delete(email.idempotencyKey);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(
        { err: error, idempotencyKey: email.idempotencyKey },
        `email ${email.idempotencyKey} was sent but data-service did not record it`,
      );
      throw new UpstreamError(
        502,
        `email ${email.idempotencyKey} was sent (${this.transport.name}) but data-service did not record it: ${reason}; a retry records it without sending again`,
        'data-service',
        error instanceof UpstreamError ? error.code : 'RECORD_FAILED',
      );
    }
  }

  private remember(key: string, delivery: Delivery): void {
    if (this.unrecorded.size >= UNRECORDED_LIMIT) {
      const oldest = this.unrecorded.keys().next().value;
      if (oldest !== undefined) this.unrecorded.delete(oldest);
    }
    this.unrecorded.set(key, delivery);
  }
}
