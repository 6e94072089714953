import { runService } from '@repo/service-kit';
import { buildApp } from './app';
import { configSchema } from './config';

await runService({
  name: 'scheduler-service',
  schema: configSchema,
  serviceDir: new URL('..', import.meta.url),
  build: ({ config, logger }) => buildApp({ config, logger }),
});
