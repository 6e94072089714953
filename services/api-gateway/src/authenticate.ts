import { unauthorized } from '@repo/service-kit';
import type { FastifyRequest } from 'fastify';
import { errors, jwtVerify } from 'jose';

/** The `iss` auth-service puts in every token (docs/internal-api.md). */
export const ISSUER = 'devstack-auth';

export interface AuthenticatedUser {
  id: string;
  email: string;
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

/** exp - iat of a token's claims, in seconds, when both are numbers. */
function lifetimeOf(payload: Record<string, unknown>): number | undefined {
  const { iat, exp } = payload;
  return typeof iat === 'number' && typeof exp === 'number' ? exp - iat : undefined;
}

export type Authenticate = (req: FastifyRequest) => Promise<AuthenticatedUser>;

/**
 * Checks the request's `Authorization: Bearer <jwt>` locally with the secret shared with
 * auth-service (HS256 only, so `alg: none` and key-confusion tokens are refused), and answers the
 * user or throws a 401. No call to auth-service per request.
 */
export function createAuthenticator(secret: string): Authenticate {
  const key = new TextEncoder().encode(secret);
  return async (req) => {
    const header = req.headers.authorization;
    const match = header?.match(/^Bearer +([\w-]+\.[\w-]*\.[\w-]*)$/i);
    if (!match) {
      throw unauthorized(
        header ? 'authorization header is not "Bearer <token>"' : 'authentication required: no bearer token',
      );
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1] as string, key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      const reason = refusal(error);
      const lifetime = error instanceof errors.JWTExpired ? lifetimeOf(error.payload) : undefined;
      // The client sees the reason in its 401; the log must say it too, or a key that differs from
      // auth-service's leaves only `statusCode: 401` behind. Never the token: it is a credential.
      // An expired token's lifetime (exp - iat, from its verified claims) tells a token kept too
      // long from tokens issued to expire at once (an issuer's TTL set too short).
      req.log.warn(
        { authRefusal: reason, ...(lifetime === undefined ? {} : { tokenLifetimeS: lifetime }) },
        error instanceof errors.JWSSignatureVerificationFailed
          ? `token refused: ${reason}: it was not signed with this gateway's JWT_SECRET (does auth-service use the same key? pnpm devctl diagnose)`
          : `token refused: ${reason}${lifetime === undefined ? '' : ` (the token was issued to live ${lifetime} s)`}`,
      );
      throw unauthorized(reason);
    }
    const { sub, email } = payload;
    if (typeof sub !== 'string' || sub === '' || typeof email !== 'string') {
      throw unauthorized('invalid token (no subject or email)');
    }
    return { id: sub, email };
  };
}
