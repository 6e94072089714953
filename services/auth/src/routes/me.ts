import { type FastifyPluginAsyncZod, unauthorized } from '@repo/service-kit';
import { bearerToken, type TokenIssuer } from '../tokens';
import type { UserStore } from '../users';
import { publicUserAnswer } from './schemas';

export const meRoute: FastifyPluginAsyncZod<{ users: UserStore; tokens: TokenIssuer }> = async (
  app,
  deps,
) => {
  app.get('/me', { schema: { response: { 200: publicUserAnswer } } }, async (req) => {
    const claims = await deps.tokens.verify(bearerToken(req.headers.authorization));
    // The stored account, not the token's copy: a deleted account's token stops working here.
    const user = await deps.users.findById(claims.id);
    if (!user) throw unauthorized('the account of this token no longer exists');
    return { id: user.id, email: user.email };
  });
};
