import { unauthorized } from '@repo/service-kit';
import type { FastifyRequest } from 'fastify';

/**
 * The caller's user id on owner routes. api-gateway verifies the JWT and passes its subject as
 * `x-user-id`; a request without it did not come through the gateway (or the gateway skipped auth).
 */
export function requireUserId(req: FastifyRequest): string {
  const given = req.headers['x-user-id'];
  const userId = typeof given === 'string' ? given.trim() : '';
  if (userId === '' || userId.length > 128) {
    throw unauthorized(
      'authentication required: x-user-id header missing (owner routes are reached through api-gateway, which sets it from the JWT)',
    );
  }
  return userId;
}
