import { runService } from '@repo/service-kit';
import { buildApp } from './app';
import { configSchema } from './config';

await runService({
  name: 'email-service',
  schema: configSchema,
  serviceDir: new URL('..', import.meta.url),
  build: ({ config, logger, serviceDir }) => buildApp({ config, logger, serviceDir }),
});
