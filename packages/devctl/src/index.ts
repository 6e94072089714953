export { cli } from './cli';
export { type Ecosystem, loadEcosystem, type ServiceEntry } from './ecosystem/index';
export { CLIError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors';
export { isDaemonRunning, listProcesses, type Pm2Status, type ProcessInfo } from './pm2/index';
