import { notFound, z } from '@repo/service-kit';
import type { RoutePlugin } from './context';
import { jobInputFields } from './jobs';
import { formSchema, storedSubmissionSchema, submissionSchema } from './schemas';

const fieldSchema = z.strictObject({
  name: z.string().min(1).max(100),
  label: z.string().min(1).max(500),
  type: z.enum(['text', 'email', 'number', 'choice']),
  required: z.boolean(),
  options: z.array(z.string().min(1).max(200)).max(100).optional(),
});

const createFormBody = z.strictObject({
  ownerId: z.string().min(1),
  title: z.string().trim().min(1).max(200),
  fields: z.array(fieldSchema).max(100),
});

const submitBody = z.strictObject({
  answers: z.record(z.string(), z.unknown()),
  job: z
    .strictObject({
      ...jobInputFields,
      idempotencyKey: jobInputFields.idempotencyKey.optional(),
    })
    .optional(),
});

const listQuery = z.strictObject({ ownerId: z.string().min(1).optional() });
const idParams = z.strictObject({ id: z.string().min(1) });

export const formRoutes: RoutePlugin = async (app, { store }) => {
  app.post(
    '/forms',
    { schema: { body: createFormBody, response: { 201: formSchema } } },
    async (req, reply) => {
      reply.code(201);
      return store.forms.create(req.body);
    },
  );

  app.get(
    '/forms',
    {
      schema: {
        querystring: listQuery,
        response: { 200: z.strictObject({ forms: z.array(formSchema) }) },
      },
    },
    async (req) => ({ forms: await store.forms.list(req.query) }),
  );

  app.get('/forms/:id', { schema: { params: idParams, response: { 200: formSchema } } }, async (req) => {
    const { id } = req.params;
    const form = await store.forms.find(id);
    if (!form) throw notFound(`form ${id} not found`);
    return form;
  });

  app.post(
    '/forms/:id/submissions',
    { schema: { params: idParams, body: submitBody, response: { 201: storedSubmissionSchema } } },
    async (req, reply) => {
      const { submission, job } = await store.forms.submit(req.params.id, req.body);
      reply.code(201);
      return job ? { ...submission, jobId: job.id } : submission;
    },
  );

  app.get(
    '/forms/:id/submissions',
    {
      schema: {
        params: idParams,
        response: { 200: z.strictObject({ submissions: z.array(submissionSchema) }) },
      },
    },
    async (req) => ({ submissions: await store.forms.submissions(req.params.id) }),
  );
};
