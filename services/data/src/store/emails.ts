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

    /**
     * Reserves a key for one sender before it sends: `sent` when the key is recorded already;
     * `reserved` (to this holder) when no live reservation of another holder exists, or this holder
     * asks again; otherwise `busy` with the holder and until when. An expired reservation is taken
     * over: its holder died between reserving and recording, and the email may or may not have left.
     */
    async reserve(input: {
      idempotencyKey: string;
      holder: string;
      leaseMs: number;
    }): Promise<
      | { state: 'sent'; email: SentEmail }
      | { state: 'reserved' | 'busy'; holder: string; reservedUntil: string }
    > {
      const sent = await find(input.idempotencyKey);
      if (sent) return { state: 'sent', email: sent };
      const now = clock.now();
      // One statement: the row is inserted, or taken over only when expired or already ours, so two
      // replicas racing for one key cannot both come out with it (SQLite writes are serial anyway).
      const { rows } = await db.query<{ holder: string; reserved_until: number }>(
        `INSERT INTO email_reservations (idempotency_key, holder, reserved_until) VALUES (?, ?, ?)
         ON CONFLICT (idempotency_key) DO UPDATE SET holder = excluded.holder, reserved_until = excluded.reserved_until
         WHERE email_reservations.reserved_until <= ? OR email_reservations.holder = excluded.holder
         RETURNING holder, reserved_until`,
        [input.idempotencyKey, input.holder, now + input.leaseMs, now],
      );
      if (rows[0])
        return { state: 'reserved', holder: rows[0].holder, reservedUntil: iso(rows[0].reserved_until) };
      // Recorded by the holder between our look-up and our insert: answer the record, not `busy`.
      const recorded = await find(input.idempotencyKey);
      if (recorded) return { state: 'sent', email: recorded };
      const { rows: held } = await db.query<{ holder: string; reserved_until: number }>(
        'SELECT holder, reserved_until FROM email_reservations WHERE idempotency_key = ?',
        [input.idempotencyKey],
      );
      const other = held[0];
      if (!other)
        throw new Error(`email_reservations: key ${input.idempotencyKey} conflicted but cannot be read back`);
      return { state: 'busy', holder: other.holder, reservedUntil: iso(Number(other.reserved_until)) };
    },

    /** Gives a reservation back (the send failed), so another replica's retry need not wait for it to expire. */
    async release(idempotencyKey: string, holder: string): Promise<boolean> {
      const { rowCount } = await db.query(
        'DELETE FROM email_reservations WHERE idempotency_key = ? AND holder = ?',
        [idempotencyKey, holder],
      );
      return rowCount > 0;
    },

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
