import { notFound, parseInput, z } from '@repo/service-kit';
import type { RouteContext } from './context';
import { jobInputFields } from './jobs';

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

export function formRoutes({ app, store }: RouteContext): void {
  app.post('/forms', async (req, reply) => {
    const body = parseInput(createFormBody, req.body);
    reply.code(201);
    return store.forms.create(body);
  });

  app.get('/forms', async (req) => {
    const query = parseInput(listQuery, req.query, 'query string');
    return { forms: await store.forms.list(query) };
  });

  app.get('/forms/:id', async (req) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const form = await store.forms.find(id);
    if (!form) throw notFound(`form ${id} not found`);
    return form;
  });

  app.post('/forms/:id/submissions', async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const body = parseInput(submitBody, req.body);
    const { submission, job } = await store.forms.submit(id, body);
    reply.code(201);
    return job ? { ...submission, jobId: job.id } : submission;
  });

  app.get('/forms/:id/submissions', async (req) => {
    const { id } = parseInput(idParams, req.params, 'path');
    return { submissions: await store.forms.submissions(id) };
  });
}
