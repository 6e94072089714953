import { parseInput } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { FormStore } from '../data';
import { createFormSchema } from '../fields';
import { requireUserId } from '../owner';

/** Creating and listing forms (owner routes) and reading one form (public, for the fill-in page). */
export function formRoutes(app: FastifyInstance, { store }: { store: FormStore }): void {
  app.post('/forms', async (req, reply) => {
    const ownerId = requireUserId(req);
    const input = parseInput(createFormSchema, req.body, 'form');
    const form = await store.createForm(ownerId, input);
    req.log.info({ formId: form.id, ownerId }, `form ${form.id} created`);
    reply.code(201);
    return form;
  });

  app.get('/forms', async (req) => {
    const ownerId = requireUserId(req);
    return store.listForms(ownerId);
  });

  app.get<{ Params: { id: string } }>('/forms/:id', async (req) => store.getForm(req.params.id));
}
