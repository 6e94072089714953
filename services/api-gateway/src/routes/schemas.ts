import { z } from '@repo/service-kit';

// The gateway checks the shape of the public contract (the route table of services/api-gateway/README.md): types, unknown fields, sizes.
// Rules that need the domain (password length, email format, answers against a form's fields)
// belong to the service that owns it, whose 400 passes through with its `fields`.

export const credentialsBody = z.strictObject({
  email: z.string().max(254),
  password: z.string().max(1024),
});

const FIELD_TYPES = ['text', 'email', 'number', 'choice'] as const;

export const createFormBody = z.strictObject({
  title: z.string().min(1).max(200),
  fields: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(100),
        label: z.string().min(1).max(200),
        type: z.enum(FIELD_TYPES),
        required: z.boolean(),
        options: z.array(z.string().max(200)).max(100).optional(),
      }),
    )
    .max(100),
});

const answerValue = z.union([
  z.string().max(10_000),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.string().max(1000)).max(100),
]);

export const submissionBody = z.strictObject({
  answers: z.record(z.string().max(100), answerValue),
});

/** Form ids are UUIDs; anything outside this set can only be a 404, and never reaches a path. */
export const FORM_ID = /^[A-Za-z0-9_-]{1,64}$/;
