import { createApp, type Logger } from '@repo/service-kit';
import type { DataConfig } from './config';
import { type Database, migrate } from './db';
import { emailRoutes } from './routes/emails';
import { formRoutes } from './routes/forms';
import { jobRoutes } from './routes/jobs';
import { scheduleRoutes } from './routes/schedules';
import { statsRoutes } from './routes/stats';
import { userRoutes } from './routes/users';
import { type Clock, createStore, type Store, systemClock } from './store';

export const SERVICE_NAME = 'data-service';

export interface BuildAppOptions {
  config: DataConfig;
  logger: Logger;
  /** The app owns it from here: it is closed when the app closes. */
  db: Database;
  clock?: Clock;
  /**
   * What the routes read and write; by default the store over `db`. Tests give one whose answers
   * drift from the contract, to check that the routes' response schemas catch it.
   */
  store?: Store;
}

/**
 * Runs the migrations once, on demand: at start, then again from the next request or readiness
 * check while they have not succeeded, so a database that comes up late is picked up without a
 * restart, and meanwhile every answer says what is wrong with it.
 */
function createMigrationGate(db: Database, logger: Logger) {
  let done = false;
  let inFlight: Promise<void> | undefined;
  return {
    ensure(): Promise<void> {
      if (done) return Promise.resolve();
      inFlight ??= migrate(db).then(
        (applied) => {
          done = true;
          if (applied.length > 0)
            logger.info(`${db.kind} database at ${db.location}: applied migrations ${applied.join(', ')}`);
        },
        (error: unknown) => {
          inFlight = undefined;
          throw error;
        },
      );
      return inFlight;
    },
  };
}

/** Builds data-service; it never listens (index.ts does, tests use `inject`). */
export async function buildApp({ config, logger, db, clock = systemClock, store: given }: BuildAppOptions) {
  const schema = createMigrationGate(db, logger);
  const store =
    given ??
    createStore(db, {
      clock,
      defaultMaxAttempts: config.JOB_MAX_ATTEMPTS,
      defaultLeaseMs: config.JOB_LEASE_MS,
      backoffBaseMs: config.JOB_BACKOFF_BASE_MS,
      backoffMaxMs: config.JOB_BACKOFF_MAX_MS,
    });

  const app = createApp({
    service: SERVICE_NAME,
    logger,
    readiness: [
      {
        name: 'database',
        check: async () => {
          await db.ping();
          await schema.ensure();
        },
      },
    ],
    health: () => ({ database: { kind: db.kind, location: db.location } }),
  });

  // Before the routes' schemas validate the input, as when each handler parsed its own: a database
  // that is not usable answers 503 whatever the request.
  app.addHook('preValidation', async (req) => {
    const route = req.routeOptions.url;
    if (route === '/health' || route === '/ready' || route === undefined) return;
    await schema.ensure();
  });
  app.addHook('onClose', async () => {
    await db.close();
  });

  const routes = { store, config };
  await app.register(userRoutes, routes);
  await app.register(formRoutes, routes);
  await app.register(jobRoutes, routes);
  await app.register(emailRoutes, routes);
  await app.register(statsRoutes, routes);
  await app.register(scheduleRoutes, routes);

  try {
    await schema.ensure();
  } catch (error) {
    logger.error(
      { err: error },
      `${SERVICE_NAME} cannot use its ${db.kind} database at ${db.location}: ${(error as Error).message}; ` +
        'it keeps running and answers 503 until the database is usable; check `GET /ready`',
    );
  }
  return app;
}
