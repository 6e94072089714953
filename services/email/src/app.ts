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

/**
 * Who holds a reservation: this replica's slot (host, port, PM2 instance), not its process. A
 * process PM2 (or the kubelet, in the same pod) starts again after a crash is the same slot and
 * takes back the keys its predecessor reserved, instead of waiting for them to expire: with the pid,
 * a crash mid-send left its keys reserved for 30 s, longer than the worker's five tries (1+2+4+8 s),
 * and the confirmation emails went dead (CI: 5 of 2222 in the chaos run). Two replicas never share a
 * slot: on one host they listen on different ports (or, in PM2 cluster mode, are other instances).
 */
function replicaSlot(port: number): string {
  const instance = process.env.NODE_APP_INSTANCE;
  return `${hostname()}:${port}${instance === undefined ? '' : `:${instance}`}`;
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
  const sender = new EmailSender(transport, data, logger, replicaSlot(config.PORT), reservationMs);

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
