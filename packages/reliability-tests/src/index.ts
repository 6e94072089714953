// Helpers for tests that run the stack for real: a private copy of ecosystem.config.js on free
// ports, the stack under a private PM2 daemon, load on the submission route and the checks that
// nothing was lost.

export { type Balancer, startBalancer } from './balancer';
export {
  createTestEcosystem,
  type EcosystemApp,
  NO_JOBS_ENV,
  readEcosystemApps,
  type TestEcosystem,
  type TestEcosystemOptions,
} from './ecosystem';
export { type Answer, type CallOptions, call, createSurvey, median, pollUntil, sleep } from './http';
export {
  checkNothingLost,
  type NothingLostReport,
  type SubmissionLoad,
  startSubmissionLoad,
  statusLine,
  uncleanStatuses,
} from './load';
export { type OutboxEmail, readOutbox } from './outbox';
export { createPm2Stack, DEVCTL_BIN, PM2_BIN, type Pm2Process, type Pm2Stack } from './pm2';
export { type ListeningSocket, listeningSockets } from './proc-net';
