export { PortTakenError, type WaitForHttpOptions, waitForHttp } from './http';
export { assertNoPm2Daemon, createPm2Home, type Pm2Home } from './pm2';
export { freePort, freePorts } from './ports';
export {
  childPids,
  isAlive,
  type KillTreeOptions,
  killTree,
  killTreeSync,
  processTree,
  type SpawnedProcess,
  type SpawnProcessOptions,
  spawnProcess,
} from './process';
export {
  isFreshBuild,
  serviceEntry,
  spawnRealService,
  startRealDataService,
  startRealService,
} from './real-service';
export {
  type RunningStack,
  readStackServices,
  repoRoot,
  type StackService,
  type StartStackOptions,
  stackUrlVariables,
  startStack,
  startWaves,
} from './stack';
export { closedPortUrl, type Stub, startStub } from './stub';
export { removeTree, type TempDir, tempDir } from './temp';
