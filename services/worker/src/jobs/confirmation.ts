import { z } from '@repo/service-kit';
import type { Form, JobHandler, Submission, User } from '../types';
import { oneLine, parsePayload } from './payload';

/** form-service's payload: the answers ride along; `submissionId` is used when data-service adds it. */
const confirmationPayload = z.object({
  formId: z.string().min(1),
  submissionId: z.string().min(1).optional(),
  answers: z.record(z.string(), z.unknown()).optional(),
});

function formatValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return '(no answer)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The email text: every field of the form in order, with its label, then any answer the form no longer has. */
export function confirmationText(
  form: Form,
  answers: Record<string, unknown>,
  submissionId?: string,
): string {
  const lines = [`Your form "${form.title}" has a new submission.`, ''];
  const known = new Set<string>();
  for (const field of form.fields) {
    known.add(field.name);
    lines.push(
      `${field.label}: ${formatValue(Object.hasOwn(answers, field.name) ? answers[field.name] : undefined)}`,
    );
  }
  for (const [name, value] of Object.entries(answers)) {
    if (!known.has(name)) lines.push(`${name}: ${formatValue(value)}`);
  }
  lines.push('', submissionId ? `Submission ${submissionId} to form ${form.id}.` : `Form ${form.id}.`);
  return `${lines.join('\n')}\n`;
}

/**
 * `send-confirmation-email`: tells the form's owner about one submission. The email goes out under
 * the job's idempotency key, so a redelivered job (lost ack, expired lease) never sends twice.
 */
export const sendConfirmationEmail: JobHandler = async (job, { data, email, emailTimeoutMs }) => {
  const payload = parsePayload(job, confirmationPayload);
  const form = await data.get<Form>(`/forms/${encodeURIComponent(payload.formId)}`);
  const owner = await data.get<User>(`/users/${encodeURIComponent(form.ownerId)}`);

  let answers = payload.answers;
  if (!answers && payload.submissionId) {
    const { submissions } = await data.get<{ submissions: Submission[] }>(
      `/forms/${encodeURIComponent(form.id)}/submissions`,
    );
    answers = submissions.find((s) => s.id === payload.submissionId)?.answers;
  }
  if (!answers) {
    throw new Error(
      `job ${job.id}: no answers in the payload and no submission ${payload.submissionId ?? '(no id)'} on form ${form.id}`,
    );
  }

  await email.post(
    '/send',
    {
      idempotencyKey: job.idempotencyKey,
      to: owner.email,
      subject: oneLine(`New submission to "${form.title}"`),
      text: confirmationText(form, answers, payload.submissionId),
    },
    { timeoutMs: emailTimeoutMs },
  );
};
