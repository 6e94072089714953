import { conflict, type FastifyPluginAsyncZod, HttpError, UpstreamError } from '@repo/service-kit';
import { hashPassword } from '../password';
import type { TokenIssuer } from '../tokens';
import type { UserStore } from '../users';
import { signupAnswer, signupBody } from './schemas';

export const signupRoute: FastifyPluginAsyncZod<{
  users: UserStore;
  tokens: TokenIssuer;
  /** scrypt's cost for the new hash (SCRYPT_COST). */
  scryptN: number;
}> = async (app, deps) => {
  app.post(
    '/signup',
    { schema: { body: signupBody, response: { 201: signupAnswer } } },
    async (req, reply) => {
      const { email, password } = req.body;
      const passwordHash = await hashPassword(password, deps.scryptN);
      let user: { id: string; email: string };
      try {
        user = await deps.users.create(email, passwordHash);
      } catch (error) {
        if (error instanceof HttpError && !(error instanceof UpstreamError) && error.statusCode === 409) {
          throw conflict('an account with this email already exists');
        }
        throw error;
      }
      req.log.info({ userId: user.id }, 'account created');
      const token = await deps.tokens.sign(user);
      reply.code(201);
      return { user: { id: user.id, email: user.email }, token };
    },
  );
};
