import { HttpError, type ServiceClient, UpstreamError, z } from '@repo/service-kit';

const publicUser = z.object({ id: z.string().min(1), email: z.string() });
const userWithHash = publicUser.extend({ passwordHash: z.string() });

export type PublicUser = z.output<typeof publicUser>;
export type UserWithHash = z.output<typeof userWithHash>;

/** data-service answered 2xx with a body that breaks docs/internal-api.md: a 502 naming it. */
function expectShape<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new UpstreamError(
    502,
    `data-service answered ${what} with an unexpected body (${result.error.issues[0]?.message ?? 'invalid'})`,
    'data-service',
    'EBADRESPONSE',
  );
}

const isNotFound = (error: unknown) =>
  error instanceof HttpError && !(error instanceof UpstreamError) && error.statusCode === 404;

/** The users of data-service (`/users`), which owns persistence; auth-service keeps no state. */
export interface UserStore {
  /** The new user, or an HttpError 409 when the email is taken. */
  create(email: string, passwordHash: string): Promise<PublicUser>;
  findByEmail(email: string): Promise<UserWithHash | undefined>;
  findById(id: string): Promise<PublicUser | undefined>;
}

export function createUserStore(data: ServiceClient): UserStore {
  return {
    async create(email, passwordHash) {
      const created = await data.post('/users', { email, passwordHash });
      return expectShape(publicUser, created, 'POST /users');
    },
    async findByEmail(email) {
      try {
        const found = await data.get(`/users/by-email/${encodeURIComponent(email)}`);
        return expectShape(userWithHash, found, 'GET /users/by-email/:email');
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async findById(id) {
      try {
        const found = await data.get(`/users/${encodeURIComponent(id)}`);
        return expectShape(publicUser, found, 'GET /users/:id');
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
  };
}
