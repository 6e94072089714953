import { runService } from '@repo/service-kit';
import { buildApp, SERVICE_NAME } from './app';
import { configSchema } from './config';
import { openDatabase } from './db';

await runService({
  name: SERVICE_NAME,
  schema: configSchema,
  serviceDir: new URL('..', import.meta.url),
  build: async ({ config, logger, serviceDir }) => {
    const db = await openDatabase(config, serviceDir, logger);
    logger.info(`database: ${db.kind === 'postgres' ? 'PostgreSQL' : 'SQLite'} at ${db.location}`);
    return buildApp({ config, logger, db });
  },
});
