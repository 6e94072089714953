import { notFound, parseInput, z } from '@repo/service-kit';
import type { RouteContext } from './context';

const createUserBody = z.strictObject({
  email: z.email().max(320),
  passwordHash: z.string().min(1).max(1000),
});
const idParams = z.strictObject({ id: z.string().min(1) });
const emailParams = z.strictObject({ email: z.string().min(1) });

export function userRoutes({ app, store }: RouteContext): void {
  app.post('/users', async (req, reply) => {
    const body = parseInput(createUserBody, req.body);
    reply.code(201);
    return store.users.create(body);
  });

  app.get('/users/by-email/:email', async (req) => {
    const { email } = parseInput(emailParams, req.params, 'path');
    const user = await store.users.findByEmail(email);
    if (!user) throw notFound(`no user with email ${email}`);
    return user;
  });

  app.get('/users/:id', async (req) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const user = await store.users.findById(id);
    if (!user) throw notFound(`user ${id} not found`);
    return user;
  });

  app.get('/owners', async () => ({ owners: await store.users.listOwners() }));
}
