// A failure whose stack holds only the shared HTTP client that read another service's answer (trial
// 13: worker-service sent a copy of a confirmation without awaiting it; email-service refused a
// missing address with 400, and the kit's HttpError crashed the worker as an unhandled rejection,
// its stack in packages/service-kit/src/http-client.ts only). The fix is in the worker's own code,
// which the stack does not show: no `where:` in the shared client, and the worker's newest change
// leads. The worker's real fatal line, as it wrote it (root made a placeholder).
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import { parseLogLines } from '../src/diagnose/log-tail';
import { type SourceChange, withOwnChangeLeads } from '../src/diagnose/upstream-change';
import { diagnoseSnapshot, onlineService } from './diagnose-recorded';

const at = (clock: string) => Date.parse(`2026-12-07T${clock}Z`);

/** The worker's fatal line as PM2 wrote it to error.log (its time prefix, then pino's JSON). */
const fatal = (clock: string, frames: string[]): string => {
  const record = {
    level: 60,
    time: new Date(at(clock)).toISOString(),
    service: 'worker-service',
    pid: 29983,
    err: {
      type: 'HttpError',
      message: 'invalid email: to: Invalid input: expected string, received undefined',
      stack: [
        'HttpError: invalid email: to: Invalid input: expected string, received undefined',
        ...frames,
        '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      ].join('\n'),
      statusCode: 400,
      name: 'HttpError',
    },
    msg: 'unhandled rejection: invalid email: to: Invalid input: expected string, received undefined',
  };
  return `2026-12-07T${clock.slice(0, 8)}: ${JSON.stringify(record)}`;
};

const CLIENT_FRAME = '    at request (/repo/packages/service-kit/src/http-client.ts:123:11)';
const OWN_FRAME = '    at sendCopy (/repo/services/worker/src/jobs/confirmation.ts:71:5)';

function snapshotOf(raw: string[]): Snapshot {
  const lines = parseLogLines(raw, 'err', at('01:40:00'));
  return {
    ecosystem: { root: '/repo', services: [] },
    now: at('01:40:00'),
    pm2Home: '/tmp/pm2',
    daemonRunning: true,
    selected: new Set(['worker-service']),
    external: new Map(),
    services: [
      onlineService({
        name: 'worker-service',
        folder: 'services/worker',
        lines,
        since: at('01:30:00'),
        restarts: 5,
      }),
    ],
  } as unknown as Snapshot;
}

const edit: SourceChange = {
  file: 'services/worker/src/jobs/confirmation.ts',
  time: at('01:31:00'),
  what: 'an uncommitted edit',
  command: 'git diff HEAD -- services/worker/src/jobs/confirmation.ts',
};

describe("a failure whose stack is only the shared client's", () => {
  it('has no where: in the shared client, says the caller is off the stack, and leads with the newest change', () => {
    const snapshot = snapshotOf([fatal('01:33:48.445', [CLIENT_FRAME])]);
    const findings = withOwnChangeLeads(snapshot, diagnoseSnapshot(snapshot), {
      changesUnder: (folder) => (folder === 'services/worker' ? [edit] : []),
    });
    const finding = findings.find((f) => f.service === 'worker-service');
    expect(finding).toMatchObject({ kind: 'unhandled-rejection', location: null });
    expect(finding?.next).toMatch(
      /^start from worker-service's newest change, an uncommitted edit 9 min ago: git diff HEAD -- services\/worker\/src\/jobs\/confirmation\.ts; then find the call in worker-service's own code that made this request: its stack holds only the shared client that read the answer \(packages\/service-kit\/src\/http-client\.ts:123:11\)/,
    );
  });

  it("with a frame of the service's own code, that frame is where; no lead is added", () => {
    const snapshot = snapshotOf([fatal('01:33:48.445', [CLIENT_FRAME, OWN_FRAME])]);
    const findings = withOwnChangeLeads(snapshot, diagnoseSnapshot(snapshot), {
      changesUnder: () => [edit],
    });
    const finding = findings.find((f) => f.service === 'worker-service');
    expect(finding?.location).toMatchObject({ file: 'services/worker/src/jobs/confirmation.ts', line: 71 });
    expect(finding?.next).toMatch(/^fix services\/worker\/src\/jobs\/confirmation\.ts:71:5/);
  });

  it('a change made after the failure (a fix being tried) leads nowhere', () => {
    const snapshot = snapshotOf([fatal('01:33:48.445', [CLIENT_FRAME])]);
    const later = { ...edit, time: at('01:35:00') };
    const [finding] = withOwnChangeLeads(snapshot, diagnoseSnapshot(snapshot), {
      changesUnder: () => [later],
    });
    expect(finding?.next).toMatch(/^find the call in worker-service's own code/);
  });
});
