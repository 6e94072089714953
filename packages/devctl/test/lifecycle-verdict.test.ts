// The verdict `restart --wait` ends with never says healthy when the restart itself did not take,
// whatever diagnose found since (the fault of issue 14: "restartProcessId failed", then
// "✓ verdict: healthy"). Pure rendering of recorded verdicts: no PM2.
import { describe, expect, it } from 'vitest';
import { renderVerdict } from '../src/commands/_lifecycle-render';
import type { RestartVerdict } from '../src/lifecycle/index';

const noFinding = { checked: ['api: online (pid 42), logs since 12:00:00 (0 errors)'], findings: [] };

const cases: { name: string; verdict: RestartVerdict; has: string[]; hasNot: string[] }[] = [
  {
    name: 'every restart took and diagnose found nothing: healthy',
    verdict: { ...noFinding, healthy: true, restartFailed: [] },
    has: ['✓ verdict: healthy, no new error since the restart'],
    hasNot: ['✗'],
  },
  {
    name: 'PM2 refused the restart and diagnose found nothing new: not healthy, and says why',
    verdict: {
      ...noFinding,
      healthy: false,
      restartFailed: [
        {
          service: 'api',
          reason: 'PM2 could not start it: restartProcessId failed: Process with pid 7 already exists',
        },
      ],
    },
    has: ['✗ verdict: the restart of api did not take: PM2 could not start it', 'devctl restart api --wait'],
    hasNot: ['✓', 'healthy, no new error'],
  },
  {
    name: 'a restart that timed out, with a finding since: both are shown',
    verdict: {
      checked: [],
      healthy: false,
      restartFailed: [{ service: 'api', reason: 'no healthy answer within 30 s' }],
      findings: [
        {
          kind: 'unhealthy',
          service: 'api',
          severity: 'error',
          summary: 'api answers /health with 503',
          evidence: [],
          location: null,
          next: 'pnpm devctl logs api --err --lines 50',
        },
      ],
    },
    has: [
      '✗ verdict: the restart of api did not take: no healthy answer within 30 s',
      'api answers /health with 503',
    ],
    hasNot: ['✓'],
  },
];

describe('the verdict after restart --wait', () => {
  for (const { name, verdict, has, hasNot } of cases) {
    it(name, async () => {
      const text = await renderVerdict(verdict);
      for (const part of has) expect(text).toContain(part);
      for (const part of hasNot) expect(text).not.toContain(part);
    });
  }
});
