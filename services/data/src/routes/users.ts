import { notFound, z } from '@repo/service-kit';
import type { RoutePlugin } from './context';
import { ownerSchema, userSchema, userWithPasswordSchema } from './schemas';

const createUserBody = z.strictObject({
  email: z.email().max(320),
  passwordHash: z.string().min(1).max(1000),
});
const idParams = z.strictObject({ id: z.string().min(1) });
const emailParams = z.strictObject({ email: z.string().min(1) });

export const userRoutes: RoutePlugin = async (app, { store }) => {
  app.post(
    '/users',
    { schema: { body: createUserBody, response: { 201: userSchema } } },
    async (req, reply) => {
      reply.code(201);
      return store.users.create(req.body);
    },
  );

  app.get(
    '/users/by-email/:email',
    { schema: { params: emailParams, response: { 200: userWithPasswordSchema } } },
    async (req) => {
      const { email } = req.params;
      const user = await store.users.findByEmail(email);
      if (!user) throw notFound(`no user with email ${email}`);
      return user;
    },
  );

  app.get('/users/:id', { schema: { params: idParams, response: { 200: userSchema } } }, async (req) => {
    const { id } = req.params;
    const user = await store.users.findById(id);
    if (!user) throw notFound(`user ${id} not found`);
    return user;
  });

  app.get(
    '/owners',
    { schema: { response: { 200: z.strictObject({ owners: z.array(ownerSchema) }) } } },
    async () => ({ owners: await store.users.listOwners() }),
  );
};
