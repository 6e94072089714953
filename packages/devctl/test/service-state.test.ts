// The one service-state vocabulary (src/pm2/state.ts) as a table: PM2's view of a process and what
// status (serviceState) and diagnose (observedState) call it. Both share the handling of PM2 7's
// "waiting restart" on an app it will not restart.
import { describe, expect, it } from 'vitest';
import { observedState, type ServiceState, serviceState } from '../src/pm2/state';
import type { ProcessInfo } from '../src/pm2/types';

const NOW = 1_000_000_000;

function info(overrides: Partial<ProcessInfo>): ProcessInfo {
  return {
    name: 'web',
    namespace: 'test',
    pmId: 0,
    pid: 4242,
    pm2Pid: 4242,
    processCount: 1,
    status: 'online',
    restarts: 0,
    unstableRestarts: 0,
    startedAt: NOW - 60_000,
    createdAt: NOW - 120_000,
    cpu: 0,
    memory: 0,
    exitCode: undefined,
    outLogPath: undefined,
    errLogPath: undefined,
    maxMemoryRestart: undefined,
    cwd: undefined,
    script: undefined,
    restartDelay: 0,
    backoffBaseDelay: 100,
    stopExitCodes: [78],
    autorestart: true,
    minUptime: 1000,
    ...overrides,
  };
}

const cases: [
  what: string,
  process: ProcessInfo | undefined,
  gaveUp: boolean,
  status: ServiceState,
  diagnose: ServiceState,
][] = [
  ['not in PM2', undefined, false, 'not started', 'not started'],
  ['online for a minute', info({}), false, 'online', 'online'],
  [
    'online again after consecutive crashes (back-off grew)',
    info({ restartDelay: 400, startedAt: NOW - 500 }),
    false,
    'crash-loop',
    // diagnose reads the loop from PM2's log of crashes; the process answers probes as online.
    'online',
  ],
  [
    'waiting out a restart delay',
    info({ status: 'waiting restart', pid: 0, exitCode: 3 }),
    false,
    'crash-loop',
    'crash-loop',
  ],
  [
    "'waiting restart' after a stop exit code (PM2 will not restart it)",
    info({ status: 'waiting restart', pid: 0, exitCode: 78 }),
    false,
    'stopped',
    'stopped',
  ],
  [
    "'waiting restart' with autorestart off",
    info({ status: 'waiting restart', pid: 0, exitCode: 1, autorestart: false }),
    false,
    'stopped',
    'stopped',
  ],
  ['PM2 gave up (errored)', info({ status: 'errored', pid: 0, exitCode: 1 }), false, 'errored', 'errored'],
  [
    "PM2's log says it gave up while the status still reads 'waiting restart'",
    info({ status: 'waiting restart', pid: 0, exitCode: 1 }),
    true,
    'crash-loop',
    'errored',
  ],
  ['stopped on request', info({ status: 'stopped', pid: 0 }), false, 'stopped', 'stopped'],
];

describe('the service-state vocabulary', () => {
  it.each(cases)('%s', (_what, process, gaveUp, status, diagnose) => {
    expect(serviceState(process, NOW)).toBe(status);
    expect(observedState(process, gaveUp, NOW)).toBe(diagnose);
  });
});
