import { notFound, type ServiceClient } from '@repo/service-kit';
import type { AnswerValue, CreateFormInput, Form } from './fields';

export interface Submission {
  id: string;
  formId: string;
  answers: Record<string, AnswerValue>;
  createdAt: string;
}

export interface SubmissionJob {
  type: 'send-confirmation-email';
  payload: { formId: string; answers: Record<string, AnswerValue> };
  idempotencyKey: string;
}

/** Ids are UUIDs (docs/internal-api.md); anything else cannot name a form, so it is a 404 without a call. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The data-service calls form-service makes, typed after docs/internal-api.md. */
export function formStore(data: ServiceClient) {
  return {
    async getForm(id: string): Promise<Form> {
      if (!UUID.test(id)) throw notFound(`form ${id} not found`);
      return data.get<Form>(`/forms/${encodeURIComponent(id)}`);
    },
    async listForms(ownerId: string): Promise<Form[]> {
      const { forms } = await data.get<{ forms: Form[] }>('/forms', { query: { ownerId } });
      return forms;
    },
    createForm(ownerId: string, input: CreateFormInput): Promise<Form> {
      return data.post<Form>('/forms', { ownerId, title: input.title, fields: input.fields });
    },
    /** Stores the submission and enqueues its job in one data-service transaction. */
    addSubmission(
      formId: string,
      answers: Record<string, AnswerValue>,
      job: SubmissionJob,
    ): Promise<Submission> {
      return data.post<Submission>(`/forms/${encodeURIComponent(formId)}/submissions`, { answers, job });
    },
    async listSubmissions(formId: string): Promise<Submission[]> {
      const { submissions } = await data.get<{ submissions: Submission[] }>(
        `/forms/${encodeURIComponent(formId)}/submissions`,
      );
      return submissions;
    },
  };
}

export type FormStore = ReturnType<typeof formStore>;
