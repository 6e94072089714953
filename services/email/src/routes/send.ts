import { type FastifyPluginAsyncZod, parseInput, z } from '@repo/service-kit';
import type { EmailSender } from '../sender';

const NO_LINE_BREAKS = /^[^\r\n]*$/;

const sendBody = z.strictObject({
  idempotencyKey: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  to: z.email(),
  subject: z.string().trim().min(1).max(300).regex(NO_LINE_BREAKS, 'must be one line'),
  text: z.string().max(100_000),
});

// What worker-service reads back (docs/internal-api.md): a drift is a 500 logged here, naming the field.
const sendAnswer = z.strictObject({
  messageId: z.string().min(1),
  transport: z.string().min(1),
  duplicate: z.boolean(),
});

/**
 * `POST /send`: one email per idempotency key, whatever the number of calls. The body is parsed in
 * the handler: its 400 says `invalid email: ...`, not the kit's `invalid request body: ...`.
 */
export const sendRoutes: FastifyPluginAsyncZod<{ sender: EmailSender }> = async (app, { sender }) => {
  app.post('/send', { schema: { response: { 200: sendAnswer } } }, async (req) => {
    const email = parseInput(sendBody, req.body, 'email');
    return sender.send(email);
  });
};
