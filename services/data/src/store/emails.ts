import type { Database } from '../db';
import { type Clock, iso } from './clock';

export interface SentEmail {
  idempotencyKey: string;
  to: string;
  subject: string;
  transport: string;
  messageId: string;
  sentAt: string;
}

interface SentEmailRow {
  idempotency_key: string;
  recipient: string;
  subject: string;
  transport: string;
  message_id: string;
  sent_at: number;
}

const toSentEmail = (row: SentEmailRow): SentEmail => ({
  idempotencyKey: row.idempotency_key,
  to: row.recipient,
  subject: row.subject,
  transport: row.transport,
  messageId: row.message_id,
  sentAt: iso(row.sent_at),
});

/** The record of emails sent, one per idempotency key, so email-service never sends one twice. */
export function createEmailStore(db: Database, clock: Clock) {
  const find = async (idempotencyKey: string): Promise<SentEmail | undefined> => {
    const { rows } = await db.query<SentEmailRow>('SELECT * FROM sent_emails WHERE idempotency_key = ?', [
      idempotencyKey,
    ]);
    return rows[0] && toSentEmail(rows[0]);
  };

  return {
    find,

    /** Records a sent email; when the key is already recorded, returns that record untouched. */
    async record(input: Omit<SentEmail, 'sentAt'>): Promise<{ email: SentEmail; created: boolean }> {
      const { rows } = await db.query<SentEmailRow>(
        `INSERT INTO sent_emails (idempotency_key, recipient, subject, transport, message_id, sent_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING *`,
        [input.idempotencyKey, input.to, input.subject, input.transport, input.messageId, clock.now()],
      );
      if (rows[0]) return { email: toSentEmail(rows[0]), created: true };
      const existing = await find(input.idempotencyKey);
      if (!existing)
        throw new Error(`sent_emails: key ${input.idempotencyKey} conflicted but cannot be read back`);
      return { email: existing, created: false };
    },
  };
}

export type EmailStore = ReturnType<typeof createEmailStore>;
