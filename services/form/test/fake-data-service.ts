import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

interface StoredForm {
  id: string;
  ownerId: string;
  title: string;
  fields: unknown[];
  createdAt: string;
}

/**
 * A real HTTP server on a free port that plays data-service's form routes from docs/internal-api.md,
 * in memory, and records the submission jobs it was handed.
 */
export async function startFakeDataService() {
  const forms: StoredForm[] = [];
  const submissions: { id: string; formId: string; answers: unknown; createdAt: string }[] = [];
  const jobs: { type: string; payload: Record<string, unknown>; idempotencyKey: string }[] = [];
  const app = Fastify();

  app.get('/health', async () => ({ status: 'ok' }));
  app.post<{ Body: { ownerId: string; title: string; fields: unknown[] } }>('/forms', async (req, reply) => {
    const form = { id: randomUUID(), ...req.body, createdAt: new Date().toISOString() };
    forms.push(form);
    reply.code(201);
    return form;
  });
  app.get<{ Querystring: { ownerId?: string } }>('/forms', async (req) => ({
    forms: forms.filter((f) => f.ownerId === req.query.ownerId).reverse(),
  }));
  app.get<{ Params: { id: string } }>('/forms/:id', async (req, reply) => {
    const form = forms.find((f) => f.id === req.params.id);
    if (!form) return reply.code(404).send({ message: `form ${req.params.id} not found` });
    return form;
  });
  app.post<{ Params: { id: string }; Body: { answers: unknown; job?: (typeof jobs)[number] } }>(
    '/forms/:id/submissions',
    async (req, reply) => {
      if (!forms.some((f) => f.id === req.params.id))
        return reply.code(404).send({ message: 'form not found' });
      const submission = {
        id: randomUUID(),
        formId: req.params.id,
        answers: req.body.answers,
        createdAt: new Date().toISOString(),
      };
      submissions.push(submission);
      if (req.body.job) jobs.push(req.body.job);
      reply.code(201);
      return submission;
    },
  );
  app.get<{ Params: { id: string } }>('/forms/:id/submissions', async (req) => ({
    submissions: submissions.filter((s) => s.formId === req.params.id),
  }));

  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, forms, submissions, jobs, close: () => app.close() };
}
