import { runService } from '@repo/service-kit';
import { buildApp, SERVICE_NAME } from './app';
import { configSchema } from './config';
import { openDatabase } from './db';

await runService({
  name: SERVICE_NAME,
  schema: configSchema,
  serviceDir: new URL('..', import.meta.url),
  build: ({ config, logger, serviceDir }) => {
    const db = openDatabase(config, serviceDir, logger);
    logger.info(`database: ${db.kind === 'postgres' ? 'PostgreSQL' : 'SQLite'} at ${db.location}`);
    return buildApp({ config, logger, db });
  },
});
