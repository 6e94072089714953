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
const reserveBody = z.strictObject({
  idempotencyKey: z.string().min(1).max(200),
  holder: z.string().min(1).max(200),
  leaseMs: z.number().int().min(1000).max(3_600_000),
});
const releaseBody = z.strictObject({ holder: z.string().min(1).max(200) });
const reservation = z.strictObject({
  state: z.enum(['reserved', 'busy']),
  holder: z.string(),
  reservedUntil: z.string(),
});
const reserveAnswer = z.union([
  z.strictObject({ state: z.literal('sent'), email: sentEmailSchema }),
  reservation,
]);

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

  // email-service asks before it sends: `reserved` (send it), `sent` (already), or `busy` (another
  // replica holds the key until reservedUntil): two replicas never both send one key.
  app.post(
    '/emails/reservations',
    { schema: { body: reserveBody, response: { 200: reserveAnswer } } },
    async (req) => store.emails.reserve(req.body),
  );

  app.delete(
    '/emails/reservations/:idempotencyKey',
    {
      schema: {
        params: keyParams,
        body: releaseBody,
        response: { 200: z.strictObject({ released: z.boolean() }) },
      },
    },
    async (req) => ({ released: await store.emails.release(req.params.idempotencyKey, req.body.holder) }),
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
