// What data-service answers, as docs/internal-api.md documents it: every route's `response` schema
// is built from these. Every other service reads these bodies, so an answer that drifts from them (a
// renamed field, a wrong type, an extra field) is a 500 logged here, naming the route and the field,
// instead of a silent `undefined` three services away. Objects are strict: a field that the
// contract does not name is a drift too (and a leak, for `passwordHash`).
import { z } from '@repo/service-kit';
import { JOB_STATUSES } from '../queue';

/** Ids are UUIDs (v7 for rows, v4 for lease tokens); times are ISO-8601 strings. */
const id = z.uuid();
const time = z.iso.datetime();

export const userSchema = z.strictObject({ id, email: z.string(), createdAt: time });
export const userWithPasswordSchema = z.strictObject({
  id,
  email: z.string(),
  passwordHash: z.string(),
  createdAt: time,
});
export const ownerSchema = z.strictObject({ id, email: z.string(), formCount: z.number().int().min(1) });

export const formFieldSchema = z.strictObject({
  name: z.string(),
  label: z.string(),
  type: z.enum(['text', 'email', 'number', 'choice']),
  required: z.boolean(),
  options: z.array(z.string()).optional(),
});

export const formSchema = z.strictObject({
  id,
  ownerId: id,
  title: z.string(),
  fields: z.array(formFieldSchema),
  createdAt: time,
});

export const submissionSchema = z.strictObject({
  id,
  formId: id,
  answers: z.record(z.string(), z.unknown()),
  createdAt: time,
});

/** A stored submission, with the id of the job stored with it when one was given. */
export const storedSubmissionSchema = submissionSchema.extend({ jobId: id.optional() });

export const digestOwnerSchema = z.strictObject({
  ownerId: id,
  email: z.string(),
  forms: z.array(z.strictObject({ id, title: z.string(), submissions: z.number().int().min(1) })),
});

export const jobSchema = z.strictObject({
  id,
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  idempotencyKey: z.string(),
  status: z.enum(JOB_STATUSES),
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  runAt: time,
  leaseToken: id.nullable(),
  leasedBy: z.string().nullable(),
  leaseUntil: time.nullable(),
  lastError: z.string().nullable(),
  createdAt: time,
  updatedAt: time,
});

const count = z.number().int().min(0);
export const jobStatsSchema = z.strictObject({
  pending: count,
  running: count,
  done: count,
  dead: count,
  oldestPendingAgeMs: z.number().min(0).nullable(),
});

export const sentEmailSchema = z.strictObject({
  idempotencyKey: z.string(),
  to: z.string(),
  subject: z.string(),
  transport: z.string(),
  messageId: z.string(),
  sentAt: time,
});
