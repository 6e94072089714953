import { unauthorized } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import { bearerToken, type TokenIssuer } from '../tokens';
import type { UserStore } from '../users';

export function meRoute(app: FastifyInstance, deps: { users: UserStore; tokens: TokenIssuer }): void {
  app.get('/me', async (req) => {
    const claims = await deps.tokens.verify(bearerToken(req.headers.authorization));
    // The stored account, not the token's copy: a deleted account's token stops working here.
    const user = await deps.users.findById(claims.id);
    if (!user) throw unauthorized('the account of this token no longer exists');
    return { id: user.id, email: user.email };
  });
}
