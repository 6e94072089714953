import { createTransport } from 'nodemailer';
import { type Delivery, IDEMPOTENCY_HEADER, type MailTransport, type OutgoingEmail } from './types';

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  timeoutMs: number;
  from: string;
}

/** Sends through an SMTP server with nodemailer. */
export function smtpTransport(options: SmtpOptions): MailTransport {
  const transporter = createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    auth: options.user ? { user: options.user, pass: options.password } : undefined,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  const where = `${options.host}:${options.port}`;

  return {
    name: 'smtp',
    async deliver(email: OutgoingEmail): Promise<Delivery> {
      const info = await transporter.sendMail({
        from: options.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        headers: { [IDEMPOTENCY_HEADER]: email.idempotencyKey },
      });
      return { messageId: info.messageId, duplicate: false };
    },
    async verify() {
      await transporter.verify();
      return where;
    },
    close() {
      transporter.close();
    },
    describe: () => ({ transport: 'smtp', smtp: where }),
  };
}
