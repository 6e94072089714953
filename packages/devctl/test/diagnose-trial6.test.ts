// Two faults of trial 6 on the real stack (recorded with DEVCTL_RECORD_SNAPSHOT while both were
// live): form-service trimmed every text answer before checking it was there (a TypeError for two
// inputs: an absent answer, "reading 'trim'"; a number, "trim is not a function"), and
// scheduler-service sent purge-dead-jobs' cutoff as epoch ms to a route that takes an ISO date (a
// 400 from data-service, caught and re-thrown by the scheduler as "purge-dead-jobs failed: ...").
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diagnoseSnapshot, loadSnapshotFile } from './diagnose-recorded';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const findings = diagnoseSnapshot(loadSnapshotFile('trial6-real-stack', repoRoot));
const errors = findings.filter((f) => f.severity === 'error');

describe('trial 6 on the real stack', () => {
  it('one finding per failing line: form-service at fields.ts, with the gateway folded in', () => {
    const form = errors.filter((f) => f.service === 'form-service');
    expect(form).toHaveLength(1);
    expect(form[0]).toMatchObject({
      kind: 'request-error',
      location: { file: 'services/form/src/fields.ts', line: 145 },
      affects: ['api-gateway'],
    });
    expect(form[0]?.summary).toMatch(/\(2 times since \d\d:\d\d:\d\d\)|2 times/);
  });

  it("the scheduler's re-thrown error is one finding at the call that failed, not at the catch", () => {
    const scheduler = errors.filter((f) => f.service === 'scheduler-service');
    expect(scheduler).toHaveLength(1);
    expect(scheduler[0]).toMatchObject({
      kind: 'request-error',
      location: { file: 'services/scheduler/src/schedules.ts', line: 72 },
    });
    expect(scheduler[0]?.summary).toMatch(
      /purge-dead-jobs failed: invalid query string: olderThan: Invalid ISO datetime/,
    );
    expect(scheduler[0]?.next).toMatch(/^fix services\/scheduler\/src\/schedules\.ts:72:\d+ /);
  });

  it('no other error', () => {
    expect(errors).toHaveLength(2);
  });
});
