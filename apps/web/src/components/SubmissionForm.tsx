import { type FormEvent, useState } from 'react';
import { type AnswerValue, ApiError, type Form, type FormField } from '../api/client';
import { ErrorMessage } from './ErrorMessage';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The problem with one raw input value, or null; the server checks again and has the last word. */
export function problemWith(field: FormField, raw: string): string | null {
  const value = raw.trim();
  if (value === '') return field.required ? 'This field is required.' : null;
  if (field.type === 'email' && !EMAIL.test(value)) return 'Enter an email address like name@example.com.';
  if (field.type === 'number' && !Number.isFinite(Number(value))) return 'Enter a number.';
  if (field.type === 'choice' && field.options && !field.options.includes(value))
    return `Choose one of: ${field.options.join(', ')}.`;
  return null;
}

/** Raw input values to the answers the API takes: numbers as numbers, empty optional fields left out. */
export function toAnswers(fields: FormField[], values: Record<string, string>): Record<string, AnswerValue> {
  const answers: Record<string, AnswerValue> = {};
  for (const field of fields) {
    const value = (values[field.name] ?? '').trim();
    if (value === '') continue;
    answers[field.name] = field.type === 'number' ? Number(value) : value;
  }
  return answers;
}

function FieldInput({
  field,
  value,
  problem,
  onChange,
}: {
  field: FormField;
  value: string;
  problem: string | undefined;
  onChange: (value: string) => void;
}) {
  const inputId = `answer-${field.name}`;
  const errorId = `${inputId}-error`;
  const common = {
    id: inputId,
    name: field.name,
    value,
    'aria-invalid': Boolean(problem),
    'aria-describedby': problem ? errorId : undefined,
    'aria-required': field.required,
  };
  return (
    <div className="answer">
      <label htmlFor={inputId}>
        {field.label}
        {field.required ? (
          <span className="required" title="required">
            {' '}
            *
          </span>
        ) : null}
      </label>
      {field.type === 'choice' ? (
        <select {...common} onChange={(e) => onChange(e.target.value)}>
          <option value="">Choose…</option>
          {(field.options ?? []).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          type={field.type === 'number' ? 'number' : field.type === 'email' ? 'email' : 'text'}
          inputMode={field.type === 'number' ? 'decimal' : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
      {problem ? (
        <span className="field-error" id={errorId}>
          {problem}
        </span>
      ) : null}
    </div>
  );
}

export function SubmissionForm({
  form,
  onSubmit,
}: {
  form: Form;
  onSubmit: (answers: Record<string, AnswerValue>) => Promise<{ id: string }>;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const [sentId, setSentId] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    for (const field of form.fields) {
      const problem = problemWith(field, values[field.name] ?? '');
      if (problem) found[field.name] = problem;
    }
    setProblems(found);
    setError(null);
    if (Object.keys(found).length > 0) return;
    setSending(true);
    try {
      const { id } = await onSubmit(toAnswers(form.fields, values));
      setSentId(id);
      setValues({});
    } catch (failure) {
      // A 400 names each invalid field: show each next to its input.
      if (failure instanceof ApiError && Object.keys(failure.fields).length > 0) setProblems(failure.fields);
      setError(failure);
    } finally {
      setSending(false);
    }
  };

  if (sentId) {
    return (
      <div className="card success" role="status">
        <h2>Thank you!</h2>
        <p>Your answers were sent (reference {sentId}).</p>
        <button type="button" className="secondary" onClick={() => setSentId(null)}>
          Send another response
        </button>
      </div>
    );
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-label={form.title}>
      {form.fields.map((field) => (
        <FieldInput
          key={field.name}
          field={field}
          value={values[field.name] ?? ''}
          problem={problems[field.name]}
          onChange={(value) => setValues((all) => ({ ...all, [field.name]: value }))}
        />
      ))}
      {Object.keys(problems).length > 0 && !error ? (
        <p className="field-error">Please correct the fields marked above.</p>
      ) : null}
      <ErrorMessage error={error} title="Your answers were not sent" />
      <button type="submit" disabled={sending}>
        {sending ? 'Sending…' : 'Submit'}
      </button>
    </form>
  );
}
