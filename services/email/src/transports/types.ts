export interface OutgoingEmail {
  idempotencyKey: string;
  to: string;
  subject: string;
  text: string;
}

export interface Delivery {
  messageId: string;
  /** True when the transport itself found this key already delivered (the outbox file exists). */
  duplicate: boolean;
}

/** Where an email goes. Both transports build the message with nodemailer. */
export interface MailTransport {
  readonly name: 'outbox' | 'smtp';
  deliver(email: OutgoingEmail): Promise<Delivery>;
  /** Resolves with a description of the connection or folder when usable; throws the exact reason when not. */
  verify(): Promise<string>;
  close(): void;
  describe(): Record<string, unknown>;
}

/** The header that carries the idempotency key in every message, so a mail can be traced to its job. */
export const IDEMPOTENCY_HEADER = 'X-Idempotency-Key';
