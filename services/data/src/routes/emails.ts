import { notFound, parseInput, z } from '@repo/service-kit';
import type { RouteContext } from './context';

const recordBody = z.strictObject({
  idempotencyKey: z.string().min(1).max(200),
  to: z.string().min(1).max(320),
  subject: z.string().max(1000),
  transport: z.string().min(1).max(50),
  messageId: z.string().min(1).max(1000),
});
const keyParams = z.strictObject({ idempotencyKey: z.string().min(1).max(200) });

export function emailRoutes({ app, store }: RouteContext): void {
  app.get('/emails/:idempotencyKey', async (req) => {
    const { idempotencyKey } = parseInput(keyParams, req.params, 'path');
    const email = await store.emails.find(idempotencyKey);
    if (!email) throw notFound(`no email recorded for key ${idempotencyKey}`);
    return email;
  });

  app.post('/emails', async (req, reply) => {
    const body = parseInput(recordBody, req.body);
    const { email, created } = await store.emails.record(body);
    reply.code(created ? 201 : 200);
    return email;
  });
}
