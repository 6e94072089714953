export {
  isSecretName,
  isServiceUrlVariable,
  localServiceUrl,
  maskValue,
  serviceUrlVariable,
  shortHash,
} from '@repo/stack-contract';
export { z } from 'zod';
export { type CreateAppOptions, createApp, type ReadinessCheck, type ServiceApp } from './app';
export {
  baseConfigSchema,
  ConfigError,
  type ConfigProblem,
  type ConfigSource,
  type DescribedVariable,
  describeConfig,
  EX_CONFIG,
  findRepoRoot,
  formatConfigError,
  type LoadedConfig,
  loadConfig,
  mustMatch,
  type SharedSetting,
  sharedSettingOf,
} from './config';
export { type DevSecret, type ResolveDevSecretOptions, resolveDevSecret } from './dev-secret';
export {
  badRequest,
  conflict,
  forbidden,
  HttpError,
  notFound,
  UpstreamError,
  unauthorized,
} from './errors';
export {
  createServiceClient,
  errorCode,
  failedAnswerError,
  noAnswerError,
  type RequestOptions,
  type ServiceClient,
  type ServiceClientOptions,
} from './http-client';
export { createLogger, type Logger, type LoggerOptions, REDACT_PATHS } from './logger';
export { currentRequestId, runWithRequestId } from './request-context';
export {
  type FastifyPluginAsyncZod,
  ResponseContractError,
  type ZodTypeProvider,
} from './route-schemas';
export { runService, type ServiceContext, type ServiceDefinition } from './server';
export { fieldErrors, parseInput } from './validation';
