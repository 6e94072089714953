// A service whose answer breaks its documented contract (docs/internal-api.md): recorded from the
// real stack by fixtures/diagnose/recorded/record-contract-drift.ts, data-service's GET /forms
// answering `{items}` instead of `{forms}`. Its response schema makes it a 500 logged by data-service
// with the route and the fields; diagnose follows the gateway's and form-service's relays down to it
// and names the route's declaration in services/data/src/routes/forms.ts.
import { describe, expect, it } from 'vitest';
import { diagnoseRecording, loadRecording } from './diagnose-recorded';

describe('contract drift two hops down (real gateway -> form-service -> data-service)', () => {
  const recording = loadRecording('contract-drift-depth-2');
  const findings = diagnoseRecording(recording);
  // The frame of `formRoutes` where `app.get('/forms', ...)` declares the route (the error's stack).
  const declared = /at formRoutes \(<ROOT>\/services\/data\/src\/routes\/forms\.ts:(\d+):\d+\)/.exec(
    JSON.stringify(recording),
  );

  it('the root cause is data-service, at the route that broke its contract, naming the fields', () => {
    expect(declared).not.toBeNull();
    const [first] = findings;
    expect(first).toMatchObject({
      kind: 'request-error',
      service: 'data-service',
      severity: 'error',
      location: { file: 'services/data/src/routes/forms.ts', line: Number(declared?.[1]) },
    });
    expect(first?.summary).toContain('data-service answered 500 to GET /forms');
    expect(first?.summary).toContain('ResponseContractError');
    expect(first?.summary).toContain(
      'forms: Invalid input: expected array, received undefined; items: unknown field',
    );
    expect(first?.next).toMatch(
      /^fix what the handler of the route declared at services\/data\/src\/routes\/forms\.ts:\d+:\d+ returns, or its response schema there \(ResponseContractError: /,
    );
    expect(first?.affects).toEqual(expect.arrayContaining(['api-gateway', 'form-service']));
  });

  it('no relay keeps a finding of its own: every finding is data-service', () => {
    expect(findings.map((f) => `${f.service} ${f.kind}`)).toEqual(['data-service request-error']);
  });
});
