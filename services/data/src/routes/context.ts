import type { FastifyPluginAsyncZod } from '@repo/service-kit';
import type { DataConfig } from '../config';
import type { Store } from '../store';

/** What every route plugin of data-service is given when the app registers it. */
export interface RouteOptions {
  store: Store;
  config: DataConfig;
}

/**
 * A file of routes: a Fastify plugin, typed by the zod type provider, registered without a prefix
 * so each route states its whole path (what devctl diagnose matches a request against).
 */
export type RoutePlugin = FastifyPluginAsyncZod<RouteOptions>;
