import { badRequest, notFound } from '@repo/service-kit';
import type { Database } from '../db';
import type { Job, JobInput, JobQueue } from '../queue';
import { type Clock, iso } from './clock';
import { newId } from './ids';

export interface FormField {
  name: string;
  label: string;
  type: 'text' | 'email' | 'number' | 'choice';
  required: boolean;
  options?: string[] | undefined;
}

export interface Form {
  id: string;
  ownerId: string;
  title: string;
  fields: FormField[];
  createdAt: string;
}

export interface Submission {
  id: string;
  formId: string;
  answers: Record<string, unknown>;
  createdAt: string;
}

export interface DigestOwner {
  ownerId: string;
  email: string;
  forms: { id: string; title: string; submissions: number }[];
}

interface FormRow {
  id: string;
  owner_id: string;
  title: string;
  fields: string;
  created_at: number;
}

interface SubmissionRow {
  id: string;
  form_id: string;
  answers: string;
  created_at: number;
}

const toForm = (row: FormRow): Form => ({
  id: row.id,
  ownerId: row.owner_id,
  title: row.title,
  fields: JSON.parse(row.fields) as FormField[],
  createdAt: iso(Number(row.created_at)),
});

const toSubmission = (row: SubmissionRow): Submission => ({
  id: row.id,
  formId: row.form_id,
  answers: JSON.parse(row.answers) as Record<string, unknown>,
  createdAt: iso(Number(row.created_at)),
});

/** The job stored with a submission; its key defaults to `submission:<id>`, which the caller cannot know. */
export type SubmissionJobInput = Omit<JobInput, 'idempotencyKey' | 'runAt'> & { idempotencyKey?: string };

export function createFormStore(db: Database, clock: Clock, queue: JobQueue) {
  const find = async (id: string): Promise<Form | undefined> => {
    const { rows } = await db.query<FormRow>('SELECT * FROM forms WHERE id = ?', [id]);
    return rows[0] && toForm(rows[0]);
  };

  return {
    find,

    /** 400 naming `ownerId` when no such user exists. */
    async create(input: { ownerId: string; title: string; fields: FormField[] }): Promise<Form> {
      const row: FormRow = {
        id: newId(),
        owner_id: input.ownerId,
        title: input.title,
        fields: JSON.stringify(input.fields),
        created_at: clock.now(),
      };
      await db.transaction(async (tx) => {
        const owner = await tx.query('SELECT id FROM users WHERE id = ?', [input.ownerId]);
        if (owner.rowCount === 0) {
          throw badRequest(`invalid request body: ownerId: no user ${input.ownerId}`, {
            fields: { ownerId: 'no user with this id' },
          });
        }
        await tx.query('INSERT INTO forms (id, owner_id, title, fields, created_at) VALUES (?, ?, ?, ?, ?)', [
          row.id,
          row.owner_id,
          row.title,
          row.fields,
          row.created_at,
        ]);
      });
      return toForm(row);
    },

    /** Newest first; every form when no owner is given. */
    async list(filter: { ownerId?: string | undefined }): Promise<Form[]> {
      const { rows } = filter.ownerId
        ? await db.query<FormRow>(
            'SELECT * FROM forms WHERE owner_id = ? ORDER BY created_at DESC, id DESC',
            [filter.ownerId],
          )
        : await db.query<FormRow>('SELECT * FROM forms ORDER BY created_at DESC, id DESC');
      return rows.map(toForm);
    },

    /**
     * Stores a submission and, when given, its job in one transaction: either both are committed or
     * neither is, so every stored submission has its job. The job's payload gets `submissionId` and
     * `formId`. 404 when the form does not exist.
     */
    async submit(
      formId: string,
      input: { answers: Record<string, unknown>; job?: SubmissionJobInput | undefined },
    ): Promise<{ submission: Submission; job?: Job }> {
      const row: SubmissionRow = {
        id: newId(),
        form_id: formId,
        answers: JSON.stringify(input.answers),
        created_at: clock.now(),
      };
      return db.transaction(async (tx) => {
        const form = await tx.query('SELECT id FROM forms WHERE id = ?', [formId]);
        if (form.rowCount === 0) throw notFound(`form ${formId} not found`);
        await tx.query('INSERT INTO submissions (id, form_id, answers, created_at) VALUES (?, ?, ?, ?)', [
          row.id,
          row.form_id,
          row.answers,
          row.created_at,
        ]);
        const submission = toSubmission(row);
        if (!input.job) return { submission };
        const { job } = await queue.enqueue(
          {
            ...input.job,
            idempotencyKey: input.job.idempotencyKey ?? `submission:${row.id}`,
            payload: { ...input.job.payload, submissionId: row.id, formId },
          },
          tx,
        );
        return { submission, job };
      });
    },

    /** Oldest first. 404 when the form does not exist. */
    async submissions(formId: string): Promise<Submission[]> {
      if (!(await find(formId))) throw notFound(`form ${formId} not found`);
      const { rows } = await db.query<SubmissionRow>(
        'SELECT * FROM submissions WHERE form_id = ? ORDER BY created_at, id',
        [formId],
      );
      return rows.map(toSubmission);
    },

    /** Per owner, the forms that received submissions at or after `since` (epoch ms), with how many. */
    async digest(since: number): Promise<DigestOwner[]> {
      const { rows } = await db.query<{
        owner_id: string;
        email: string;
        form_id: string;
        title: string;
        submissions: number;
      }>(
        `SELECT u.id AS owner_id, u.email, f.id AS form_id, f.title, COUNT(s.id) AS submissions
         FROM submissions s
         JOIN forms f ON f.id = s.form_id
         JOIN users u ON u.id = f.owner_id
         WHERE s.created_at >= ?
         GROUP BY u.id, u.email, f.id, f.title
         ORDER BY u.email, f.title, f.id`,
        [since],
      );
      const owners = new Map<string, DigestOwner>();
      for (const r of rows) {
        let owner = owners.get(r.owner_id);
        if (!owner) {
          owner = { ownerId: r.owner_id, email: r.email, forms: [] };
          owners.set(r.owner_id, owner);
        }
        owner.forms.push({ id: r.form_id, title: r.title, submissions: Number(r.submissions) });
      }
      return [...owners.values()];
    },
  };
}

export type FormStore = ReturnType<typeof createFormStore>;
