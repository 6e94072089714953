// Every detector, in no particular order: the root-cause pass ranks what they find.
import { detectBuildErrors } from './build-error';
import { detectConfigConsistency } from './config-consistency';
import { detectConfigErrors } from './config-error';
import { detectConfigOnDisk } from './config-on-disk';
import { detectCrashLoops } from './crash-loop';
import { detectDataFaults } from './data-fault';
import { detectDependencies } from './dependency';
import { detectExceptions } from './exception';
import { detectMemory } from './memory';
import { detectModuleNotFound } from './module-not-found';
import { detectNotRunning } from './not-running';
import { detectPortConflicts } from './port-conflict';
import { detectRefusals, detectRouteMisses } from './refused';
import type { Detector } from './shared';
import { detectSlowRequests } from './slow-request';
import { detectUnhealthy } from './unhealthy';

export const detectors: Detector[] = [
  detectBuildErrors,
  detectConfigErrors,
  detectConfigOnDisk,
  detectConfigConsistency,
  detectExceptions,
  detectModuleNotFound,
  detectCrashLoops,
  detectPortConflicts,
  detectDependencies,
  detectUnhealthy,
  detectMemory,
  detectNotRunning,
  detectDataFaults,
  detectSlowRequests,
  detectRefusals,
  detectRouteMisses,
];

export type { Candidate, Detector } from './shared';
