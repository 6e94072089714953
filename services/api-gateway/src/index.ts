import { findRepoRoot, resolveDevSecret, runService } from '@repo/service-kit';
import { buildApp } from './app';
import { configSchema } from './config';
import { resolveForwardedRoutes } from './routes/forward';
import { generatedRoutes } from './routes/generated';

await runService({
  name: 'api-gateway',
  schema: configSchema,
  serviceDir: new URL('..', import.meta.url),
  build({ config, logger, serviceDir }) {
    let jwtSecret = config.JWT_SECRET;
    if (jwtSecret === undefined) {
      // The schema makes JWT_SECRET required in production, so this is development or test only.
      // auth-service reads (or creates) the same file, so both sides agree without configuration.
      const secret = resolveDevSecret({ name: 'jwt-secret', rootDir: findRepoRoot(serviceDir) });
      logger.warn(
        `JWT_SECRET is not set: using the development secret in ${secret.file} (${secret.source}); set JWT_SECRET in production`,
      );
      jwtSecret = secret.value;
    }
    const forwardedRoutes = resolveForwardedRoutes(generatedRoutes, config);
    return buildApp({ config, logger, jwtSecret, forwardedRoutes });
  },
});
