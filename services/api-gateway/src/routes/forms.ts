import { notFound, parseInput } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { Authenticate } from '../authenticate';
import type { Upstreams } from '../upstreams';
import { createFormBody, FORM_ID, submissionBody } from './schemas';

export interface FormRouteOptions {
  upstreams: Upstreams;
  authenticate: Authenticate;
}

function formPath(params: unknown, rest = ''): string {
  const { id } = params as { id: string };
  if (!FORM_ID.test(id)) throw notFound(`form ${JSON.stringify(id.slice(0, 64))} not found`);
  return `/forms/${encodeURIComponent(id)}${rest}`;
}

/**
 * /api/forms*: forwarded to form-service. The gateway has checked the JWT and passes the user as
 * `x-user-id`; form-service decides ownership (403 for someone else's submissions).
 */
export function formRoutes(app: FastifyInstance, { upstreams, authenticate }: FormRouteOptions): void {
  const asUser = (userId: string) => ({ headers: { 'x-user-id': userId } });

  app.post('/api/forms', async (req, reply) => {
    const user = await authenticate(req);
    const body = parseInput(createFormBody, req.body);
    const form = await upstreams.form.post('/forms', body, asUser(user.id));
    reply.code(201);
    return form;
  });

  app.get('/api/forms', async (req) => {
    const user = await authenticate(req);
    return upstreams.form.get('/forms', asUser(user.id));
  });

  // Public: the fill-in page of a form needs no account.
  app.get('/api/forms/:id', async (req) => upstreams.form.get(formPath(req.params)));

  // Public: anyone with the link may answer.
  app.post('/api/forms/:id/submissions', async (req, reply) => {
    const path = formPath(req.params, '/submissions');
    const body = parseInput(submissionBody, req.body);
    const stored = await upstreams.form.post(path, body);
    reply.code(201);
    return stored;
  });

  app.get('/api/forms/:id/submissions', async (req) => {
    const user = await authenticate(req);
    return upstreams.form.get(formPath(req.params, '/submissions'), asUser(user.id));
  });
}
