import { type FastifyPluginAsyncZod, unauthorized } from '@repo/service-kit';
import { hashPassword, verifyPassword } from '../password';
import type { TokenIssuer } from '../tokens';
import type { UserStore } from '../users';
import { loginBody, tokenAnswer } from './schemas';

/** One message for an unknown email and a wrong password, so the answer does not tell which accounts exist. */
export const WRONG_CREDENTIALS = 'wrong email or password';

export const loginRoute: FastifyPluginAsyncZod<{
  users: UserStore;
  tokens: TokenIssuer;
  /** scrypt's cost of the decoy hash: the same as signup's, so an unknown email costs the same. */
  scryptN: number;
}> = async (app, deps) => {
  // An unknown email still costs one scrypt verification, so response time does not tell either.
  const decoyHash = hashPassword('decoy password, never matches', deps.scryptN);

  app.post('/login', { schema: { body: loginBody, response: { 200: tokenAnswer } } }, async (req) => {
    const { email, password } = req.body;
    const user = await deps.users.findByEmail(email);
    const matches = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
    if (!user || !matches) {
      req.log.info({ userId: user?.id, reason: user ? 'wrong password' : 'unknown email' }, 'login refused');
      throw unauthorized(WRONG_CREDENTIALS);
    }
    return { token: await deps.tokens.sign(user) };
  });
};
