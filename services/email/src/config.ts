import { baseConfigSchema, z } from '@repo/service-kit';
import addressparser from 'nodemailer/lib/addressparser';

/** True when `value` is exactly one mailbox with an address, e.g. `devstack <no-reply@devstack.local>`. */
function isOneMailbox(value: string): boolean {
  const parsed = addressparser(value, { flatten: true });
  return parsed.length === 1 && z.email().safeParse(parsed[0]?.address).success;
}

/**
 * email-service configuration. `outbox` (the default) writes .eml files; `smtp` needs SMTP_HOST and
 * SMTP_PORT, and the schema refuses to start without them rather than failing at the first email.
 */
export const configSchema = baseConfigSchema(3002)
  .extend({
    DATA_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3004'),
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    EMAIL_TRANSPORT: z.enum(['outbox', 'smtp']).default('outbox'),
    /** Relative paths are taken from the service folder (services/email). */
    EMAIL_OUTBOX_DIR: z.string().min(1).default('outbox'),
    EMAIL_FROM: z
      .string()
      .refine(isOneMailbox, 'must be one address, e.g. "devstack <no-reply@devstack.local>"')
      .default('devstack <no-reply@devstack.local>'),
    SMTP_HOST: z.string().min(1).optional(),
    SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** true: TLS from the first byte (port 465); false: plain, upgraded with STARTTLS when offered. */
    SMTP_SECURE: z.stringbool().default(false),
    SMTP_USER: z.string().min(1).optional(),
    SMTP_PASSWORD: z.string().min(1).optional(),
    SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  })
  .superRefine((config, ctx) => {
    if (config.EMAIL_TRANSPORT === 'smtp') {
      for (const variable of ['SMTP_HOST', 'SMTP_PORT'] as const) {
        if (config[variable] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [variable],
            message: 'is required when EMAIL_TRANSPORT=smtp',
          });
        }
      }
    }
    if (config.SMTP_USER !== undefined && config.SMTP_PASSWORD === undefined) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_PASSWORD'], message: 'is required when SMTP_USER is set' });
    }
  });

export type EmailConfig = z.output<typeof configSchema>;
