import { z } from '@repo/service-kit';
import type { JobHandler, User } from '../types';
import { oneLine, parsePayload } from './payload';

/** scheduler-service's payload: one owner's forms with their new submission counts since `since`. */
export const digestPayload = z.object({
  ownerId: z.string().min(1),
  email: z.email().optional(),
  date: z.string().min(1),
  since: z.string().min(1),
  forms: z.array(z.object({ id: z.string(), title: z.string(), submissions: z.number().int().min(0) })),
});

export type DigestPayload = z.output<typeof digestPayload>;

export function digestSubject(payload: DigestPayload): string {
  const total = payload.forms.reduce((sum, f) => sum + f.submissions, 0);
  return oneLine(`Your daily digest for ${payload.date}: ${total} new submission${total === 1 ? '' : 's'}`);
}

export function digestText(payload: DigestPayload): string {
  const lines = [`New submissions since ${payload.since}:`, ''];
  for (const form of payload.forms) lines.push(`- "${form.title}": ${form.submissions}`);
  return `${lines.join('\n')}\n`;
}

/** `send-digest-email`: one owner's daily summary, sent once per `digest:<owner>:<date>` key. */
export const sendDigestEmail: JobHandler = async (job, { data, email, emailTimeoutMs }) => {
  const payload = parsePayload(job, digestPayload);
  const to = payload.email ?? (await data.get<User>(`/users/${encodeURIComponent(payload.ownerId)}`)).email;
  await email.post(
    '/send',
    { idempotencyKey: job.idempotencyKey, to, subject: digestSubject(payload), text: digestText(payload) },
    { timeoutMs: emailTimeoutMs },
  );
};
