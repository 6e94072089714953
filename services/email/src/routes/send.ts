import { parseInput, z } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
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

/** `POST /send`: one email per idempotency key, whatever the number of calls. */
export function sendRoutes(app: FastifyInstance, { sender }: { sender: EmailSender }): void {
  app.post('/send', async (req) => {
    const email = parseInput(sendBody, req.body, 'email');
    return sender.send(email);
  });
}
