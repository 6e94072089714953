import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { FIELD_TYPES, type FieldType, type FormField, type NewForm } from '../api/client';
import { ErrorMessage } from './ErrorMessage';

interface DraftField {
  key: number;
  label: string;
  /** Derived from the label until the user edits it. */
  name: string;
  nameEdited: boolean;
  type: FieldType;
  required: boolean;
  /** For `choice`: one option per line or comma-separated. */
  optionsText: string;
}

/** `Your e-mail!` -> `your_e_mail`: the key of the field in the submitted answers. */
export function fieldNameFrom(label: string): string {
  return label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function parseOptions(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((option) => option.trim())
    .filter(Boolean);
}

/** A labelled control with its problem below it, outside the label so the label stays the control's name. */
function Labelled({
  label,
  problem,
  children,
}: {
  label: string;
  problem?: string;
  children: (control: { id: string; 'aria-describedby'?: string; 'aria-invalid': boolean }) => ReactNode;
}) {
  const id = useId();
  const problemId = `${id}-problem`;
  return (
    <div className="stacked">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-describedby': problem ? problemId : undefined,
        'aria-invalid': Boolean(problem),
      })}
      {problem ? (
        <span className="field-error" id={problemId}>
          {problem}
        </span>
      ) : null}
    </div>
  );
}

let nextKey = 1;
const emptyField = (): DraftField => ({
  key: nextKey++,
  label: '',
  name: '',
  nameEdited: false,
  type: 'text',
  required: false,
  optionsText: '',
});

/** Problems keyed by `title` or `<field key>.<label|name|options>`; empty when the draft can be sent. */
export function validateDraft(title: string, fields: DraftField[]): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!title.trim()) problems.title = 'Give the form a title.';
  if (fields.length === 0) problems.fields = 'Add at least one field.';
  const seen = new Set<string>();
  for (const field of fields) {
    if (!field.label.trim()) problems[`${field.key}.label`] = 'A field needs a label.';
    if (!field.name) problems[`${field.key}.name`] = 'A field needs a name (letters, digits, _).';
    else if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(field.name))
      problems[`${field.key}.name`] = 'Use letters, digits and _ only, not starting with a digit.';
    else if (seen.has(field.name))
      problems[`${field.key}.name`] = `Another field is already named "${field.name}".`;
    seen.add(field.name);
    if (field.type === 'choice' && parseOptions(field.optionsText).length === 0)
      problems[`${field.key}.options`] = 'A choice needs at least one option.';
  }
  return problems;
}

function toField(draft: DraftField): FormField {
  const field: FormField = {
    name: draft.name,
    label: draft.label.trim(),
    type: draft.type,
    required: draft.required,
  };
  if (draft.type === 'choice') field.options = parseOptions(draft.optionsText);
  return field;
}

export function FormBuilder({ onCreate }: { onCreate: (form: NewForm) => Promise<unknown> }) {
  const [title, setTitle] = useState('');
  const [fields, setFields] = useState<DraftField[]>(() => [emptyField()]);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const update = (key: number, change: Partial<DraftField>) =>
    setFields((all) =>
      all.map((field) => {
        if (field.key !== key) return field;
        const next = { ...field, ...change };
        if (change.label !== undefined && !next.nameEdited) next.name = fieldNameFrom(change.label);
        return next;
      }),
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = validateDraft(title, fields);
    setProblems(found);
    setError(null);
    if (Object.keys(found).length > 0) return;
    setSaving(true);
    try {
      await onCreate({ title: title.trim(), fields: fields.map(toField) });
      setTitle('');
      setFields([emptyField()]);
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="card builder" onSubmit={submit} noValidate aria-label="New form">
      <h2>New form</h2>
      <Labelled label="Title" problem={problems.title}>
        {(control) => (
          <input
            {...control}
            name="title"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            placeholder="e.g. Conference sign-up"
          />
        )}
      </Labelled>

      <fieldset className="builder-fields">
        <legend>Fields</legend>
        {fields.map((field, index) => (
          <div className="builder-field" key={field.key} data-testid="builder-field">
            <Labelled label="Label" problem={problems[`${field.key}.label`]}>
              {(control) => (
                <input
                  {...control}
                  aria-label={`Label of field ${index + 1}`}
                  value={field.label}
                  onChange={(e) => update(field.key, { label: e.target.value })}
                />
              )}
            </Labelled>
            <Labelled label="Name" problem={problems[`${field.key}.name`]}>
              {(control) => (
                <input
                  {...control}
                  aria-label={`Name of field ${index + 1}`}
                  value={field.name}
                  onChange={(e) => update(field.key, { name: e.target.value.trim(), nameEdited: true })}
                />
              )}
            </Labelled>
            <Labelled label="Type">
              {(control) => (
                <select
                  {...control}
                  aria-label={`Type of field ${index + 1}`}
                  value={field.type}
                  onChange={(e) => update(field.key, { type: e.target.value as FieldType })}
                >
                  {FIELD_TYPES.map((type) => (
                    <option key={type} value={type}>
                      {type}
                    </option>
                  ))}
                </select>
              )}
            </Labelled>
            <label className="inline">
              <input
                type="checkbox"
                aria-label={`Field ${index + 1} is required`}
                checked={field.required}
                onChange={(e) => update(field.key, { required: e.target.checked })}
              />
              required
            </label>
            {field.type === 'choice' ? (
              <div className="options">
                <Labelled
                  label="Options (one per line or comma-separated)"
                  problem={problems[`${field.key}.options`]}
                >
                  {(control) => (
                    <textarea
                      {...control}
                      aria-label={`Options of field ${index + 1}`}
                      rows={3}
                      value={field.optionsText}
                      onChange={(e) => update(field.key, { optionsText: e.target.value })}
                    />
                  )}
                </Labelled>
              </div>
            ) : null}
            <button
              type="button"
              className="secondary remove"
              onClick={() => setFields((all) => all.filter((f) => f.key !== field.key))}
              aria-label={`Remove field ${index + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
        {problems.fields ? <p className="field-error">{problems.fields}</p> : null}
        <button
          type="button"
          className="secondary"
          onClick={() => setFields((all) => [...all, emptyField()])}
        >
          Add field
        </button>
      </fieldset>

      <ErrorMessage error={error} title="The form was not created" />
      <button type="submit" disabled={saving}>
        {saving ? 'Creating…' : 'Create form'}
      </button>
    </form>
  );
}
