import { unauthorized } from '@repo/service-kit';
import { errors, jwtVerify, SignJWT } from 'jose';

/** The `iss` of every token; api-gateway requires it too. */
export const ISSUER = 'devstack-auth';

export interface TokenUser {
  id: string;
  email: string;
}

export interface TokenIssuer {
  sign(user: TokenUser): Promise<string>;
  /** The token's user, or a 401 HttpError saying why the token is refused. */
  verify(token: string): Promise<TokenUser>;
}

/** Why a token was refused, in words a client can act on (the token is theirs, nothing leaks). */
function refusal(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired, log in again';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'invalid token (signature does not match)';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'invalid token (algorithm not allowed)';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `invalid token (claim "${error.claim}" ${error.reason === 'missing' ? 'missing' : 'not accepted'})`;
  }
  return 'invalid token (malformed)';
}

/** HS256 tokens: `sub` = user id, `email`, `iss` = devstack-auth, expiring `ttlSeconds` after issue. */
export function createTokenIssuer(secret: string, ttlSeconds: number): TokenIssuer {
  const key = new TextEncoder().encode(secret);
  return {
    sign: (user) =>
      new SignJWT({ email: user.email })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key),
    async verify(token) {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          algorithms: ['HS256'],
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        throw unauthorized(refusal(error));
      }
      const { sub, email } = payload;
      if (typeof sub !== 'string' || sub === '' || typeof email !== 'string') {
        throw unauthorized('invalid token (no subject or email)');
      }
      return { id: sub, email };
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or a 401. */
export function bearerToken(header: string | undefined): string {
  const match = header?.match(/^Bearer +([\w-]+\.[\w-]*\.[\w-]*)$/i);
  if (!match)
    throw unauthorized(
      header ? 'authorization header is not "Bearer <token>"' : 'authentication required: no bearer token',
    );
  return match[1] as string;
}
