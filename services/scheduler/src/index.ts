import { baseConfigSchema, createApp, runService, z } from '@repo/service-kit';

const schema = baseConfigSchema(3006).extend({ DATA_SERVICE_URL: z.url().default('http://127.0.0.1:3004'), NEED: z.string() });

await runService({
  name: 'scheduler-service',
  schema,
  serviceDir: new URL('..', import.meta.url),
  build: ({ logger }) => {
    const app = createApp({ service: 'scheduler-service', logger });
    app.get('/boom', async () => { throw new Error('kaboom'); });
    return app;
  },
});
