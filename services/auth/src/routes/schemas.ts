import { z } from '@repo/service-kit';

/** Emails are stored and compared lowercase and trimmed: `Ann@X.org ` and `ann@x.org` are one account. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be an email address'));

// The upper bound keeps one request from buying seconds of scrypt work.
export const signupBody = z.strictObject({
  email: emailSchema,
  password: z.string().min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters'),
});

// No length rule at login: the policy is for new passwords, and a wrong one is a 401 anyway.
export const loginBody = z.strictObject({
  email: emailSchema,
  password: z.string().min(1, 'is required').max(1024, 'must be at most 1024 characters'),
});

export const verifyBody = z.strictObject({ token: z.string().min(1, 'is required').max(8192) });

// What auth-service answers (docs/internal-api.md), each route's `response` schema. Strict: an answer
// with a field the contract does not name (a password hash passed on by mistake) is a 500 logged
// here with the route and the field, as is a missing or mistyped one.
export const publicUserAnswer = z.strictObject({ id: z.string().min(1), email: z.string() });
export const tokenAnswer = z.strictObject({ token: z.string().min(1) });
export const signupAnswer = z.strictObject({ user: publicUserAnswer, token: z.string().min(1) });
export const verifyAnswer = z.strictObject({ userId: z.string().min(1), email: z.string() });
