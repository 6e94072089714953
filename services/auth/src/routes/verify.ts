import { parseInput } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { TokenIssuer } from '../tokens';
import { verifyBody } from './schemas';

/** For services that hold a token but not the secret; checks the signature and expiry only. */
export function verifyRoute(app: FastifyInstance, deps: { tokens: TokenIssuer }): void {
  app.post('/verify', async (req) => {
    const { token } = parseInput(verifyBody, req.body);
    const user = await deps.tokens.verify(token);
    return { userId: user.id, email: user.email };
  });
}
