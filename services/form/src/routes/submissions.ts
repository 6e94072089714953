import { randomUUID } from 'node:crypto';
import { badRequest, type FastifyPluginAsyncZod, forbidden, parseInput, z } from '@repo/service-kit';
import type { FormStore } from '../data';
import { checkAnswers } from '../fields';
import { requireUserId } from '../owner';
import { idParams, submissionSchema } from './schemas';

const submissionBody = z.strictObject({
  answers: z.record(z.string(), z.unknown(), { error: 'must be an object of {<field name>: value}' }),
});

/** Public submission of answers, and the owner's list of submissions. */
export const submissionRoutes: FastifyPluginAsyncZod<{ store: FormStore }> = async (app, { store }) => {
  const created = z.object({ id: z.string() });
  app.post(
    '/forms/:id/submissions',
    { schema: { params: idParams, response: { 201: created } } },
    async (req, reply) => {
      const { answers } = parseInput(submissionBody, req.body, 'submission');
      const form = await store.getForm(req.params.id);
      const checked = checkAnswers(form.fields, answers);
      if (!checked.ok) {
        const summary = Object.entries(checked.problems)
          .map(([name, problem]) => `${name}: ${problem}`)
          .join('; ');
        throw badRequest(`invalid answers: ${summary}`, { fields: checked.problems });
      }
      // The submission id exists only once data-service has stored it, in the same transaction as
      // the job, so the job's key is a UUID made here. It stays the job's identity through every
      // redelivery, which is what lets email-service send exactly one email for it. The answers ride
      // in the payload so the worker can list them without another lookup.
      const idempotencyKey = `submission:${randomUUID()}`;
      const submission = await store.addSubmission(form.id, checked.answers, {
        type: 'send-confirmation-email',
        payload: { formId: form.id, answers: checked.answers },
        idempotencyKey,
      });
      req.log.info(
        { formId: form.id, submissionId: submission.id, idempotencyKey },
        'submission stored, email queued',
      );
      reply.code(201);
      return { id: submission.id };
    },
  );

  app.get(
    '/forms/:id/submissions',
    { schema: { params: idParams, response: { 200: z.array(submissionSchema) } } },
    async (req) => {
      const userId = requireUserId(req);
      const form = await store.getForm(req.params.id);
      if (form.ownerId !== userId) throw forbidden(`form ${form.id} belongs to another user`);
      return store.listSubmissions(form.id);
    },
  );
};
