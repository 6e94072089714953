import { ErrorMessage } from '../components/ErrorMessage';
import { useAsync } from '../components/useAsync';
import { Link } from '../router/router';
import { useSession } from '../session/session';

function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function SubmissionsPage({ formId }: { formId: string }) {
  const { api } = useSession();
  const form = useAsync(() => api.getForm(formId), [api, formId]);
  const submissions = useAsync(() => api.listSubmissions(formId), [api, formId]);
  const fields = form.data?.fields ?? [];

  return (
    <section>
      <p>
        <Link to="/forms">← My forms</Link>
      </p>
      <h1>Submissions{form.data ? ` of “${form.data.title}”` : ''}</h1>
      <ErrorMessage error={form.error} title="The form could not be loaded" />
      <ErrorMessage error={submissions.error} title="The submissions could not be loaded" />
      <p className="actions">
        <button type="button" className="secondary" onClick={submissions.reload}>
          Refresh
        </button>
        <Link to={`/f/${formId}`}>Public link</Link>
      </p>
      {submissions.loading && !submissions.data ? <p className="muted">Loading submissions…</p> : null}
      {submissions.data && submissions.data.length === 0 ? (
        <p className="muted">No submissions yet.</p>
      ) : null}
      {submissions.data && submissions.data.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Submissions">
            <thead>
              <tr>
                <th>Received</th>
                {fields.map((field) => (
                  <th key={field.name}>{field.label}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {submissions.data.map((submission) => (
                <tr key={submission.id}>
                  <td>{submission.createdAt ? new Date(submission.createdAt).toLocaleString() : '—'}</td>
                  {fields.map((field) => (
                    <td key={field.name}>{show(submission.answers[field.name])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
