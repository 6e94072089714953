import type { NewForm } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { FormBuilder } from '../components/FormBuilder';
import { useAsync } from '../components/useAsync';
import { Link } from '../router/router';
import { useSession } from '../session/session';

export function FormsPage() {
  const { api } = useSession();
  const forms = useAsync(() => api.listForms(), [api]);

  const create = async (form: NewForm) => {
    await api.createForm(form);
    forms.reload();
  };

  return (
    <section>
      <h1>My forms</h1>
      <div className="columns">
        <div>
          <ErrorMessage error={forms.error} title="Your forms could not be loaded" />
          {forms.loading && !forms.data ? <p className="muted">Loading your forms…</p> : null}
          {forms.data && forms.data.length === 0 ? (
            <p className="muted">No forms yet: create your first one with the builder.</p>
          ) : null}
          <ul className="form-list" aria-label="My forms">
            {(forms.data ?? []).map((form) => {
              const publicPath = `/f/${form.id}`;
              return (
                <li key={form.id} className="card">
                  <h2>{form.title}</h2>
                  <p className="muted">
                    {form.fields.length} field{form.fields.length === 1 ? '' : 's'}:{' '}
                    {form.fields.map((f) => f.label).join(', ')}
                  </p>
                  <p className="actions">
                    <Link to={publicPath} className="public-link">
                      Public link
                    </Link>
                    <code>{window.location.origin + publicPath}</code>
                    <Link to={`/forms/${form.id}/submissions`} className="button secondary">
                      Submissions
                    </Link>
                  </p>
                </li>
              );
            })}
          </ul>
        </div>
        <FormBuilder onCreate={create} />
      </div>
    </section>
  );
}
