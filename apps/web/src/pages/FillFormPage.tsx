import { ErrorMessage } from '../components/ErrorMessage';
import { SubmissionForm } from '../components/SubmissionForm';
import { useAsync } from '../components/useAsync';
import { useSession } from '../session/session';

/** The public page behind a form's link: anyone can fill it in, no account needed. */
export function FillFormPage({ formId }: { formId: string }) {
  const { api } = useSession();
  const form = useAsync(() => api.getForm(formId), [api, formId]);
  return (
    <section className="narrow">
      {form.loading && !form.data ? <p className="muted">Loading the form…</p> : null}
      <ErrorMessage error={form.error} title="This form could not be opened" />
      {form.data ? (
        <>
          <h1>{form.data.title}</h1>
          <SubmissionForm form={form.data} onSubmit={(answers) => api.submit(formId, answers)} />
        </>
      ) : null}
    </section>
  );
}
