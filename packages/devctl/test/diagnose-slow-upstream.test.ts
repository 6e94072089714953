// A slow handler two hops down, on the real stack (trial 4, recorded with DEVCTL_RECORD_SNAPSHOT):
// data-service's GET /forms waited 8 s; form-service gave up on it after 5 s and the gateway gave up
// on form-service after 5 s (both 504). Only data-service's handler is a finding: form-service and
// the gateway were slow because they waited on it, and fold into it. The recording also holds the
// gateway's "token expired" refusals from before auth-service restarted on a fixed .env: history.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkedLines } from '../src/diagnose/index';
import type { Finding } from '../src/diagnose/types';
import { diagnoseSnapshot, loadSnapshotFile } from './diagnose-recorded';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const findings = diagnoseSnapshot(loadSnapshotFile('slow-upstream-real-stack', repoRoot));

describe('a slow handler in data-service under form-service and the gateway (real stack)', () => {
  it('the only finding is data-service slow-request, at the route, with both callers folded in', () => {
    expect(findings).toHaveLength(1);
    const [first] = findings as [Finding];
    expect(first).toMatchObject({
      kind: 'slow-request',
      service: 'data-service',
      severity: 'error',
      affects: ['api-gateway', 'form-service'],
    });
    expect(first.location?.file).toBe('services/data/src/routes/forms.ts');
    expect(first.summary).toMatch(
      /^data-service did not answer GET \/forms within the 5000 ms its caller waits/,
    );
    expect(first.next).toMatch(
      /^find what the handler of GET \/forms at services\/data\/src\/routes\/forms\.ts:\d+:\d+ waits on/,
    );
  });

  it('no finding asks to look at a relay', () => {
    expect(findings.filter((f) => f.service !== 'data-service')).toEqual([]);
  });
});

describe('after data-service and form-service were fixed and restarted (the same stack, later)', () => {
  it("the gateway's 504s from before are history: no slow-request finding", () => {
    const later = diagnoseSnapshot(loadSnapshotFile('slow-upstream-after-fix', repoRoot));
    const gateway = later.find((f) => f.service === 'api-gateway');
    expect(gateway).toBeUndefined();
    expect(later.filter((f) => f.kind === 'slow-request')).toEqual([]);
  });

  it("the checked line says the gateway's logged errors are no current finding", () => {
    const snapshot = loadSnapshotFile('slow-upstream-after-fix', repoRoot);
    const lines = checkedLines(snapshot, diagnoseSnapshot(snapshot));
    expect(lines.find((line) => line.startsWith('api-gateway: '))).toMatch(
      /logs since \d\d:\d\d:\d\d \(2 errors, none a current finding\)/,
    );
    // A service with a finding keeps the plain count (the control).
    const during = loadSnapshotFile('slow-upstream-real-stack', repoRoot);
    const duringLines = checkedLines(during, diagnoseSnapshot(during));
    expect(duringLines.find((line) => line.startsWith('api-gateway: '))).toMatch(/\(\d+ errors?\)/);
  });
});
