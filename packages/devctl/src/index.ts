export { cli } from './cli';
export { CLIError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors';
export { type Ecosystem, loadEcosystem, type ServiceEntry } from './ecosystem/index';
