import { describe, expect, it } from 'vitest';
import { checkAnswers, createFormSchema, type FormField } from '../src/fields';

const field = (type: FormField['type'], extra: Partial<FormField> = {}): FormField[] => [
  { name: 'f', label: 'F', type, required: true, ...extra },
];

describe('checkAnswers', () => {
  it.each([
    ['42', 42],
    [' -3.5 ', -3.5],
    ['1e3', 1000],
    [7, 7],
    ['.5', 0.5],
  ])('parses the number %j as %j', (given, expected) => {
    expect(checkAnswers(field('number'), { f: given })).toEqual({ ok: true, answers: { f: expected } });
  });

  it.each(['0x10', 'Infinity', '12 years', '1,5', true])('refuses %j as a number', (given) => {
    expect(checkAnswers(field('number'), { f: given })).toEqual({
      ok: false,
      problems: { f: 'must be a number' },
    });
  });

  it('leaves optional fields out when they are blank', () => {
    expect(checkAnswers(field('text', { required: false }), { f: '' })).toEqual({ ok: true, answers: {} });
  });

  it('does not mistake inherited properties for answers', () => {
    const fields: FormField[] = [{ name: 'constructor', label: 'C', type: 'text', required: false }];
    expect(checkAnswers(fields, {})).toEqual({ ok: true, answers: {} });
  });

  it('reports an answer named __proto__ as unknown instead of setting a prototype', () => {
    const fields: FormField[] = [{ name: 'a', label: 'A', type: 'text', required: false }];
    const checked = checkAnswers(fields, JSON.parse('{"__proto__":"x"}'));
    expect(checked.ok).toBe(false);
    expect(!checked.ok && Object.keys(checked.problems)).toEqual(['__proto__']);
  });

  it('refuses __proto__ as a field name', () => {
    const body = { title: 'T', fields: [{ name: '__proto__', label: 'L', type: 'text', required: true }] };
    const parsed = createFormSchema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/reserved/);
  });

  it('matches choices exactly', () => {
    const fields = field('choice', { options: ['Red', 'Blue'] });
    expect(checkAnswers(fields, { f: 'Red' }).ok).toBe(true);
    expect(checkAnswers(fields, { f: 'red' })).toEqual({
      ok: false,
      problems: { f: 'must be one of: Red, Blue' },
    });
  });
});
