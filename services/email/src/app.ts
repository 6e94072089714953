import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createApp, createServiceClient, type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { EmailConfig } from './config';
import { sendRoutes } from './routes/send';
import { EmailSender } from './sender';
import { outboxTransport } from './transports/outbox';
import { smtpTransport } from './transports/smtp';
import type { MailTransport } from './transports/types';

const VERIFIED_FOR_MS = 30_000;

export interface BuildAppOptions {
  config: EmailConfig;
  logger: Logger;
  /** The service folder (services/email): a relative EMAIL_OUTBOX_DIR is resolved from it. */
  serviceDir: string;
}

function makeTransport(config: EmailConfig, serviceDir: string): MailTransport {
  if (config.EMAIL_TRANSPORT === 'smtp') {
    // The config schema guarantees both for smtp.
    return smtpTransport({
      host: config.SMTP_HOST!,
      port: config.SMTP_PORT!,
      secure: config.SMTP_SECURE,
      user: config.SMTP_USER,
      password: config.SMTP_PASSWORD,
      timeoutMs: config.SMTP_TIMEOUT_MS,
      from: config.EMAIL_FROM,
    });
  }
  const dir = isAbsolute(config.EMAIL_OUTBOX_DIR)
    ? config.EMAIL_OUTBOX_DIR
    : resolve(serviceDir, config.EMAIL_OUTBOX_DIR);
  return outboxTransport({ dir, from: config.EMAIL_FROM });
}

/** The email-service application. Never listens. */
export function buildApp({ config, logger, serviceDir }: BuildAppOptions): FastifyInstance {
  const data = createServiceClient({
    name: 'data-service',
    baseUrl: config.DATA_SERVICE_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const transport = makeTransport(config, serviceDir);
  // A reservation outlives the slowest send (SMTP's timeout) and the record's request after it.
  const reservationMs = 2 * (config.SMTP_TIMEOUT_MS + config.UPSTREAM_TIMEOUT_MS);
  const sender = new EmailSender(transport, data, logger, `${hostname()}:${process.pid}`, reservationMs);

  // /ready reuses a successful verification for VERIFIED_FOR_MS and re-checks after it, or at once
  // after a failure: a mail server that comes up (or goes down) later is noticed without a restart,
  // and frequent readiness probes do not open an SMTP connection each.
  let verified: { result: Promise<string>; at: number } | undefined;
  const verify = (): Promise<string> => {
    if (!verified || Date.now() - verified.at > VERIFIED_FOR_MS) {
      const attempt = { result: transport.verify(), at: Date.now() };
      attempt.result.catch(() => {
        if (verified === attempt) verified = undefined;
      });
      verified = attempt;
    }
    return verified.result;
  };

  const app = createApp({
    service: 'email-service',
    logger,
    readiness: [
      { name: 'data-service', check: () => data.get('/health') },
      { name: transport.name, check: verify },
    ],
    health: () => transport.describe(),
  });

  app.addHook('onReady', async () => {
    // Not awaited: a slow or absent mail server must not hold up start-up; /ready reports it.
    verify().then(
      (where) => {
        if (transport.name === 'smtp') logger.info(`SMTP connection established to ${where}`);
        else logger.info(where);
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        const where = transport.describe();
        logger.error(
          { err: error },
          transport.name === 'smtp'
            ? `SMTP connection to ${where.smtp} failed: ${reason}`
            : `outbox folder ${where.outboxDir} is not usable: ${reason}`,
        );
      },
    );
  });
  app.addHook('onClose', async () => transport.close());

  app.register(sendRoutes, { sender });
  return app;
}
