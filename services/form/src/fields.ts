import { z } from '@repo/service-kit';

export const FIELD_TYPES = ['text', 'email', 'number', 'choice'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FormField {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  options?: string[];
}

export interface Form {
  id: string;
  ownerId: string;
  title: string;
  fields: FormField[];
  createdAt: string;
}

/** Field names become keys of `answers` and of 400 `fields`, so they must be plain identifiers. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const fieldSchema = z
  .strictObject({
    name: z
      .string()
      .regex(FIELD_NAME, 'must be an identifier: a letter or _, then letters, digits or _ (at most 64)')
      // Answers arrive as a JSON object keyed by field name, where `__proto__` cannot be a plain key.
      .refine((name) => name !== '__proto__', 'is reserved: __proto__ cannot name a field'),
    label: z.string().trim().min(1, 'must not be empty').max(200),
    type: z.enum(FIELD_TYPES),
    required: z.boolean().default(false),
    options: z.array(z.string().trim().min(1, 'must not be empty').max(200)).max(100).optional(),
  })
  .superRefine((field, ctx) => {
    if (field.type === 'choice') {
      if (!field.options || field.options.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['options'],
          message: 'a choice field needs a non-empty list of options',
        });
      } else if (new Set(field.options).size !== field.options.length) {
        ctx.addIssue({ code: 'custom', path: ['options'], message: 'options must be unique' });
      }
    } else if (field.options !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['options'],
        message: `only choice fields have options, not ${field.type}`,
      });
    }
  });

export const createFormSchema = z.strictObject({
  // One line: the title goes into email subjects.
  title: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200)
    .regex(/^[^\r\n]*$/, 'must be one line'),
  fields: z
    .array(fieldSchema)
    .min(1, 'a form needs at least one field')
    .max(100)
    .superRefine((fields, ctx) => {
      const seen = new Set<string>();
      fields.forEach((field, index) => {
        if (seen.has(field.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'name'],
            message: `duplicate field name "${field.name}"`,
          });
        }
        seen.add(field.name);
      });
    }),
});

export type CreateFormInput = z.output<typeof createFormSchema>;

export type AnswerValue = string | number;

export type AnswersCheck =
  | { ok: true; answers: Record<string, AnswerValue> }
  | { ok: false; problems: Record<string, string> };

const emailSchema = z.email();
/** Decimal notation only: `Number()` alone would also take "0x1f", "Infinity" and "" (as 0). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const MAX_TEXT_LENGTH = 10_000;

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** One answer against its field: the stored value, or the problem to report for that field. */
function checkAnswer(field: FormField, value: unknown): { value: AnswerValue } | { problem: string } {
  switch (field.type) {
    case 'text':
      if (typeof value !== 'string') return { problem: 'must be text' };
      if (value.length > MAX_TEXT_LENGTH) return { problem: `must be at most ${MAX_TEXT_LENGTH} characters` };
      return { value };
    case 'email': {
      if (typeof value !== 'string') return { problem: 'must be an email address' };
      const trimmed = value.trim();
      return emailSchema.safeParse(trimmed).success
        ? { value: trimmed }
        : { problem: 'must be an email address' };
    }
    case 'number': {
      if (typeof value === 'number')
        return Number.isFinite(value) ? { value } : { problem: 'must be a finite number' };
      if (typeof value === 'string' && DECIMAL.test(value.trim())) {
        const parsed = Number(value.trim());
        if (Number.isFinite(parsed)) return { value: parsed };
      }
      return { problem: 'must be a number' };
    }
    case 'choice': {
      const options = field.options ?? [];
      if (typeof value === 'string' && options.includes(value)) return { value };
      return { problem: `must be one of: ${options.join(', ')}` };
    }
  }
}

/**
 * Validates submitted answers against a form's fields and names every bad field at once: missing
 * required answers, wrong types, bad email or number formats, choices outside the options, and
 * names the form does not have. Valid answers come back normalised (numbers parsed, emails trimmed).
 */
export function checkAnswers(fields: FormField[], answers: Record<string, unknown>): AnswersCheck {
  // Collected as entries and built with Object.fromEntries, which defines own properties: a key
  // such as `__proto__` is then reported like any other instead of setting a prototype.
  const problems: [string, string][] = [];
  const clean: [string, AnswerValue][] = [];
  const known = new Set(fields.map((f) => f.name));
  for (const name of Object.keys(answers)) {
    if (!known.has(name)) problems.push([name, 'unknown field: this form has no such field']);
  }
  for (const field of fields) {
    // Own keys only: a field named e.g. `constructor` must not read Object.prototype.
    const value = Object.hasOwn(answers, field.name) ? answers[field.name] : undefined;
    if (isMissing(value)) {
      if (field.required) problems.push([field.name, 'is required']);
      continue;
    }
    const result = checkAnswer(field, value);
    if ('problem' in result) problems.push([field.name, result.problem]);
    else clean.push([field.name, result.value]);
  }
  return problems.length > 0
    ? { ok: false, problems: Object.fromEntries(problems) }
    : { ok: true, answers: Object.fromEntries(clean) };
}
