import type { z } from 'zod';
import { badRequest } from './errors';

/** Turns zod issues into `{ field: message }`, the shape every 400 of this project carries. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.join('.') : '(body)';
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) fields[[...issue.path, k].join('.')] = 'unknown field';
      continue;
    }
    fields[key] ??= issue.message;
  }
  return fields;
}

/** Validates input against a schema or throws a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = 'request body',
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldErrors(result.error);
  const summary = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  throw badRequest(`invalid ${what}: ${summary}`, { fields });
}
