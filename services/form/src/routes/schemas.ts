// What form-service answers (docs/internal-api.md, "form-service"): each route's `response` schema.
// A form is data-service's, passed through: objects here are not strict, so a field data-service
// adds later is dropped rather than failing every read; a field missing or of the wrong type (the
// `undefined` a renamed field upstream turns into) is a 500 logged here, naming the route and field.
import { z } from '@repo/service-kit';
import { FIELD_TYPES } from '../fields';

const time = z.iso.datetime();

export const formSchema = z.object({
  id: z.string(),
  ownerId: z.string(),
  title: z.string(),
  fields: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      type: z.enum(FIELD_TYPES),
      required: z.boolean(),
      options: z.array(z.string()).optional(),
    }),
  ),
  createdAt: time,
});

export const submissionSchema = z.object({
  id: z.string(),
  formId: z.string(),
  answers: z.record(z.string(), z.union([z.string(), z.number()])),
  createdAt: time,
});

export const idParams = z.object({ id: z.string() });
