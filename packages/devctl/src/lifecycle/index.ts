// Bringing services up and taking them down, for every face of devctl (CLI commands, MCP tools):
// they parse their options, call one of these, and render what comes back.
export type { HealthOutcome } from './health';
export type { LifecycleSink, LogMarks, ServiceFailure, ServiceResult } from './outcome';
export { DEFAULT_TIMEOUT_SECONDS, timeoutMs } from './prepare';
export {
  type RestartLogLine,
  type RestartOutcome,
  type RestartRequest,
  type RestartVerdict,
  restartServices,
} from './restart';
export { type StartOutcome, type StartRequest, startServices } from './start';
export { type StopOutcome, type TakeDownVerb, takeDownServices } from './stop';
