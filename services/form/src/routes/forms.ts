import { type FastifyPluginAsyncZod, parseInput, z } from '@repo/service-kit';
import type { FormStore } from '../data';
import { createFormSchema } from '../fields';
import { requireUserId } from '../owner';
import { formSchema, idParams } from './schemas';

/**
 * Creating and listing forms (owner routes) and reading one form (public, for the fill-in page).
 * Bodies are parsed in the handlers, after the owner check: a request without `x-user-id` is a 401
 * whatever its body.
 */
export const formRoutes: FastifyPluginAsyncZod<{ store: FormStore }> = async (app, { store }) => {
  app.post('/forms', { schema: { response: { 201: formSchema } } }, async (req, reply) => {
    const ownerId = requireUserId(req);
    const input = parseInput(createFormSchema, req.body, 'form');
    const form = await store.createForm(ownerId, input);
    req.log.info({ formId: form.id, ownerId }, `form ${form.id} created`);
    reply.code(201);
    return form;
  });

  app.get('/forms', { schema: { response: { 200: z.array(formSchema) } } }, async (req) => {
    const ownerId = requireUserId(req);
    return store.listForms(ownerId);
  });

  app.get('/forms/:id', { schema: { params: idParams, response: { 200: formSchema } } }, async (req) =>
    store.getForm(req.params.id),
  );
};
