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

type Reservation =
  | { state: 'sent'; email: SentEmailRecord }
  | { state: 'reserved' | 'busy'; holder: string; reservedUntil: string };

/** Tries to record a sent email before answering that it was sent but not recorded. */
const RECORD_ATTEMPTS = 3;

/** How many sent-but-unrecorded keys this process remembers (they are dropped once recorded). */
const UNRECORDED_LIMIT = 10_000;

/**
 * Sends each idempotency key at most once, across replicas. Before sending, the key is reserved in
 * data-service (`POST /emails/reservations`): the record of a sent key answers `sent`, another
 * replica's live reservation answers `busy` (a 409 here), else the key is ours until the reservation
 * expires. After sending, the `/emails` record is written. Within one process, concurrent calls for
 * one key share one attempt, and a key whose record could not be written is remembered so a retry
 * records it instead of sending again. The one window left: a replica killed after the transport
 * took the email and before the record; once its reservation expires, a retry sends it again
 * (at least once, rather than never).
 */
export class EmailSender {
  private readonly inFlight = new Map<string, Promise<SendResult>>();
  private readonly unrecorded = new Map<string, Delivery>();

  constructor(
    private readonly transport: MailTransport,
    private readonly data: ServiceClient,
    private readonly logger: Logger,
    /** Who reserves keys (this replica), and for how long: longer than one send can take. */
    private readonly holder: string,
    private readonly reservationMs: number,
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

    const reservation = await this.reserve(key);
    if (reservation.state === 'sent') {
      const existing = reservation.email;
      this.logger.info(
        { idempotencyKey: key, messageId: existing.messageId },
        `email ${key} already sent, not again`,
      );
      return { messageId: existing.messageId, transport: existing.transport, duplicate: true };
    }
    if (reservation.state === 'busy') {
      // Another replica is sending this key: a 409, which the worker retries after its backoff and
      // then finds the record (or, if that replica died, the reservation expired and free).
      throw new HttpError(
        409,
        `email ${key} is being sent by ${reservation.holder} (reserved until ${reservation.reservedUntil}); not sent twice, retry later`,
      );
    }

    let delivery: Delivery;
    try {
      delivery = await this.deliver(email);
    } catch (error) {
      await this.release(key);
      throw error;
    }
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

  /**
   * Reserves the key in data-service before sending, so that two replicas of email-service never
   * both hand one key to the transport: the unique reservation, not this process's memory, decides.
   */
  private async reserve(key: string): Promise<Reservation> {
    try {
      return await this.data.post<Reservation>('/emails/reservations', {
        idempotencyKey: key,
        holder: this.holder,
        leaseMs: this.reservationMs,
      });
    } catch (error) {
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

  /** After a failed send: another replica's retry need not wait for the reservation to expire. */
  private async release(key: string): Promise<void> {
    try {
      await this.data.request('DELETE', `/emails/reservations/${encodeURIComponent(key)}`, {
        holder: this.holder,
      });
    } catch (error) {
      this.logger.warn(
        { err: error, idempotencyKey: key },
        `email ${key}: the reservation could not be given back; it expires in ${this.reservationMs} ms`,
      );
    }
  }

  private async record(email: OutgoingEmail, delivery: Delivery): Promise<void> {
    const body = {
      idempotencyKey: email.idempotencyKey,
      to: email.to,
      subject: email.subject,
      transport: this.transport.name,
      messageId: delivery.messageId,
    };
    try {
      // The email is out: until it is recorded, only this process knows it (a replica that stops
      // now leaves the key to be sent again once its reservation expires). The record is idempotent,
      // so a failed attempt -- the data-service replica that took it died -- is tried again at once.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.data.post('/emails', body);
          break;
        } catch (error) {
          if (!(error instanceof UpstreamError) || attempt >= RECORD_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }
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
