import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { listenErrorLine, PRINT_CONFIG_FLAG } from '@repo/stack-contract';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import {
  ConfigError,
  describeConfig,
  EX_CONFIG,
  findRepoRoot,
  formatConfigError,
  type LoadedConfig,
  loadConfig,
} from './config';
import { installExitTrace } from './exit-trace';
import { createLogger, type Logger } from './logger';

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  serviceDir: string;
}

export interface ServiceDefinition<S extends z.ZodObject> {
  /** The PM2 name, e.g. `form-service`. */
  name: string;
  schema: S;
  /** The service's package folder; pass `new URL('..', import.meta.url)` from src/index.ts. */
  serviceDir: URL | string;
  build: (ctx: ServiceContext<z.output<S> & BaseConfig>) => Promise<FastifyInstance> | FastifyInstance;
}

interface BaseConfig {
  PORT: number;
  HOST: string;
  LOG_LEVEL: string;
  LOG_FORMAT: 'json' | 'pretty';
  SHUTDOWN_TIMEOUT_MS: number;
}

function printConfig(name: string, schema: z.ZodObject, loaded: LoadedConfig<Record<string, unknown>>): void {
  process.stdout.write(`${JSON.stringify({ service: name, variables: describeConfig(schema, loaded) })}\n`);
}

/**
 * Exits 0 -- under PM2's cluster mode (`instances: N`) only once the primary, the PM2 daemon that
 * holds the port and hands each connection to an instance over IPC, has stopped handing them here.
 * Exiting as soon as the server closed lost a connection handed over in that moment: accepted by
 * the daemon, never answered (seen during a rolling `restart --wait`). Node's disconnect waits for
 * the primary's acknowledgement, and connections already on their way are sent back to it.
 */
function exitAfterPrimary(): void {
  const worker = cluster.isWorker ? cluster.worker : undefined;
  if (!worker) process.exit(0);
  else {
    worker.once('disconnect', () => process.exit(0));
    worker.disconnect();
  }
}

/**
 * The one place a service listens. Loads and validates its config (exit 78 with a message naming
 * each variable when it is wrong), builds the app, listens, tells PM2 it is ready, and shuts down
 * gracefully within SHUTDOWN_TIMEOUT_MS on SIGINT/SIGTERM. `--print-config` prints the resolved,
 * masked configuration with the source of each value, and exits. A non-zero process.exit that
 * nothing explained logs its caller (exit-trace.ts).
 */
export async function runService<S extends z.ZodObject>(def: ServiceDefinition<S>): Promise<void> {
  const serviceDir = typeof def.serviceDir === 'string' ? def.serviceDir : fileURLToPath(def.serviceDir);
  // First: an exit anywhere from here on (config, build, a timer, a route) says where it came from.
  const { exitExplained, useLogger } = installExitTrace({
    service: def.name,
    rootDir: findRepoRoot(serviceDir),
  });
  let loaded: LoadedConfig<z.output<S>>;
  try {
    loaded = loadConfig(def.schema, { service: def.name, serviceDir });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of formatConfigError(error)) process.stderr.write(`${line}\n`);
      exitExplained(EX_CONFIG);
    }
    throw error;
  }
  if (process.argv.includes(PRINT_CONFIG_FLAG)) {
    printConfig(def.name, def.schema, loaded as LoadedConfig<Record<string, unknown>>);
    process.exit(0);
  }

  const config = loaded.config as z.output<S> & BaseConfig;
  const logger = createLogger({ service: def.name, level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  useLogger(logger);

  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, `uncaught exception: ${error.message}`);
    exitExplained(1);
  });
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    logger.fatal({ err }, `unhandled rejection: ${err.message}`);
    exitExplained(1);
  });

  const app = await def.build({ config, logger, serviceDir });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info(`${signal} received, closing (at most ${config.SHUTDOWN_TIMEOUT_MS} ms)`);
    const timer = setTimeout(() => {
      logger.error(`shutdown did not finish within ${config.SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      exitExplained(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // Keep-alive sockets that are idle (or become idle once their response is sent) would hold
    // server.close() open until the client drops them: close them as soon as they are idle.
    const sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
    sweeper.unref();
    app.server.closeIdleConnections();
    app.close().then(
      () => {
        logger.info('closed');
        exitAfterPrimary();
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while closing');
        exitExplained(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'EUNKNOWN';
    const reason =
      code === 'EADDRINUSE'
        ? `port ${config.PORT} is already in use on ${config.HOST}`
        : code === 'EACCES'
          ? `no permission to listen on port ${config.PORT}`
          : (error as Error).message;
    logger.fatal(
      { err: error },
      `${def.name} could not listen: ${reason}; run \`pnpm devctl diagnose ${def.name}\``,
    );
    process.stderr.write(
      `${listenErrorLine({ service: def.name, host: config.HOST, port: config.PORT, code })}\n`,
    );
    exitExplained(1);
  }
  logger.info(`${def.name} listening on http://${config.HOST}:${config.PORT}`);
  process.send?.('ready');
}
