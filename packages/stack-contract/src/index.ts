// @repo/stack-contract: the rules that the services (through the kit), devctl, the scaffolds and the
// test harnesses must agree on, each in one place. No dependencies beyond Node's own modules, so
// every side can import it: the services bundle it, devctl bundles it, tests run its TypeScript.
export {
  DependencyCycleError,
  type Dependent,
  dependencyWaves,
  withDependencies,
} from './dependency-order';
export {
  ECOSYSTEM_FILE,
  type EcosystemApp,
  portOf,
  readEcosystem,
  readEcosystemApps,
  type StackApp,
  type StackEcosystem,
  stackAppOf,
  TOOL_ROLE,
} from './ecosystem';
export { EX_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes';
export {
  lastJsonLine,
  PRINT_CONFIG_FLAG,
  type PrintedConfig,
  type PrintedVariable,
  printedConfigOf,
} from './print-config';
export { isSecretName, MASK, maskValue, shortHash, shortHashOf } from './secrets';
export {
  isServiceUrlVariable,
  LOCAL_HOST,
  localServiceUrl,
  serviceOfUrlVariable,
  serviceUrlVariable,
} from './service-urls';
export {
  BLOCK_STEP,
  DEFAULT_NAMESPACE,
  DOCUMENTED_WEB_PORT,
  FIRST_BLOCK_VARIABLE,
  findStack,
  IDENTITY_FILE,
  NAMESPACE_VARIABLE,
  namespaceFor,
  PORT_OFFSET_VARIABLE,
  pinStack,
  portOffsetOf,
  readRegistry,
  registryPath,
  removeStacks,
  STATE_DIR_VARIABLE,
  type StackEntry,
  type StackIdentity,
  type StackIdentityOptions,
  stackEnv,
  stackIdentity,
  stateDir,
} from './stack-identity.cjs';
export {
  type ConfigErrorLine,
  type ConfigErrorVariable,
  configErrorLine,
  type ListenErrorLine,
  lastConfigErrorLine,
  listenErrorLine,
  STRUCTURED_LINE_KINDS,
  type StructuredLine,
  type StructuredLineKind,
  structuredLineKind,
} from './stderr-lines';
