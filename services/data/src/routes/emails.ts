import { notFound, z } from '@repo/service-kit';
import type { RoutePlugin } from './context';
import { sentEmailSchema } from './schemas';

const recordBody = z.strictObject({
  idempotencyKey: z.string().min(1).max(200),
  to: z.string().min(1).max(320),
  subject: z.string().max(1000),
  transport: z.string().min(1).max(50),
  messageId: z.string().min(1).max(1000),
});
const keyParams = z.strictObject({ idempotencyKey: z.string().min(1).max(200) });

export const emailRoutes: RoutePlugin = async (app, { store }) => {
  app.get(
    '/emails/:idempotencyKey',
    { schema: { params: keyParams, response: { 200: sentEmailSchema } } },
    async (req) => {
      const { idempotencyKey } = req.params;
      const email = await store.emails.find(idempotencyKey);
      if (!email) throw notFound(`no email recorded for key ${idempotencyKey}`);
      return email;
    },
  );

  app.post(
    '/emails',
    { schema: { body: recordBody, response: { 200: sentEmailSchema, 201: sentEmailSchema } } },
    async (req, reply) => {
      const { email, created } = await store.emails.record(req.body);
      reply.code(created ? 201 : 200);
      return email;
    },
  );
};
