// A background job that gives up (worker-service's last attempt, logged at error with its stack)
// is a fault with a location even though no request failed: the user only sees an email that never
// comes. The line is the real one from a user trial (a worker looking a user up by the form's id),
// at the level the worker now logs a final failure; paths rewritten to this repository.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import { detectExceptions } from '../src/diagnose/detectors/exception';
import { findErrors, parseLogLines } from '../src/diagnose/log-tail';

const root = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const recorded = readFileSync(
  new URL('./fixtures/diagnose/recorded/worker-job-gave-up.line', import.meta.url),
  'utf8',
)
  .trim()
  .replaceAll('/REPO/', `${root}/`);

function snapshotOf(line: string, folder = 'services/worker'): Snapshot {
  const lines = parseLogLines([line], 'err');
  return {
    ecosystem: { root },
    now: Date.now(),
    services: [
      {
        entry: { name: 'worker-service', folder },
        since: undefined,
        lines,
        errors: findErrors(lines),
        events: [],
      },
    ],
  } as unknown as Snapshot;
}

describe('an error logged outside a request', () => {
  it('a job that gave up: an error at the line in the service that asked for the wrong thing', () => {
    const [finding, ...others] = detectExceptions(snapshotOf(recorded));
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'logged-error',
      service: 'worker-service',
      severity: 'error',
      location: { file: 'services/worker/src/jobs/confirmation.ts', line: 45 },
    });
    expect(finding?.summary).toMatch(/user \S+ not found/);
    expect(finding?.next).toMatch(/^fix services\/worker\/src\/jobs\/confirmation\.ts:45:\d+/);
  });

  it('a retry (warn) is no finding', () => {
    expect(detectExceptions(snapshotOf(recorded.replace('"level":50', '"level":40')))).toEqual([]);
  });

  it('an error whose only own frame is in a shared package stays a warning', () => {
    const sharedOnly = recorded
      .replace(/\\n\s+at async sendConfirmationEmail[^\\]*/, '')
      .replace(/\\n\s+at async[^\\"]*services\/worker[^\\"]*/g, '');
    expect(sharedOnly).not.toContain('services/worker');
    const findings = detectExceptions(snapshotOf(sharedOnly));
    // The shared client only read the answer: no `where:` there; the next says the caller is off the stack.
    expect(findings.map((f) => [f.severity, f.location])).toEqual([['warning', null]]);
    expect(findings[0]?.next).toMatch(
      /^find the call in worker-service's own code that made this request: its stack holds only the shared client that read the answer \(packages\/service-kit\/src\/http-client\.ts:\d+:\d+\)/,
    );
  });
});
