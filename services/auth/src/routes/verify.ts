import type { FastifyPluginAsyncZod } from '@repo/service-kit';
import type { TokenIssuer } from '../tokens';
import { verifyAnswer, verifyBody } from './schemas';

/** For services that hold a token but not the secret; checks the signature and expiry only. */
export const verifyRoute: FastifyPluginAsyncZod<{ tokens: TokenIssuer }> = async (app, deps) => {
  app.post('/verify', { schema: { body: verifyBody, response: { 200: verifyAnswer } } }, async (req) => {
    const { token } = req.body;
    const user = await deps.tokens.verify(token);
    return { userId: user.id, email: user.email };
  });
};
