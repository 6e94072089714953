import { fieldErrors, type z } from '@repo/service-kit';
import type { Job } from '../types';

/** A job's payload checked against its schema; a malformed payload fails the job with the reason. */
export function parsePayload<S extends z.ZodType>(job: Job, schema: S): z.output<S> {
  const result = schema.safeParse(job.payload);
  if (result.success) return result.data;
  const problems = Object.entries(fieldErrors(result.error))
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  throw new Error(`job ${job.id} (${job.type}) has a malformed payload: ${problems}`);
}

/** Subjects are one line: collapse any whitespace run (a stray newline in a title) to a space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
