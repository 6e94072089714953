// A service URL with a path the service does not serve, on the real stack (trial 4, recorded with
// DEVCTL_RECORD_SNAPSHOT): services/auth/.env had DATA_SERVICE_URL=http://127.0.0.1:3004/v1. The
// kit's client puts /v1 before every route: auth-service was "not ready" (data-service answered
// "route GET /v1/health not found") and signup answered "route POST /v1/users not found". diagnose
// asked to "make data-service reachable"; it must name the variable, its file and the fix.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import type { ResolvedVariable, ServiceConfig } from '../src/diagnose/config-snapshot';
import { diagnoseSnapshot, loadSnapshotFile } from './diagnose-recorded';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

function variable(name: string, value: string, source: string, file: string, line: number | null) {
  return { name, value, source, place: { file, line } } satisfies ResolvedVariable;
}

/** The configuration as `--print-config` gave it (the recording holds the logs and probes only). */
function withConfig(snapshot: Snapshot, dataUrl: string): Snapshot {
  const ports: Record<string, number> = { 'auth-service': 3003, 'data-service': 3004 };
  const configs = new Map<string, ServiceConfig>();
  for (const [service, port] of Object.entries(ports)) {
    const variables = new Map<string, ResolvedVariable>([
      [
        'PORT',
        variable(
          'PORT',
          String(port),
          'default',
          `services/${service.replace('-service', '')}/src/config.ts`,
          null,
        ),
      ],
    ]);
    if (service === 'auth-service')
      variables.set(
        'DATA_SERVICE_URL',
        dataUrl === 'http://127.0.0.1:3004'
          ? variable('DATA_SERVICE_URL', dataUrl, 'default', 'services/auth/src/config.ts', null)
          : variable('DATA_SERVICE_URL', dataUrl, 'service .env', 'services/auth/.env', 1),
      );
    configs.set(service, { service, variables });
  }
  return { ...snapshot, config: { runs: [], configs, envFiles: new Map(), elapsedMs: 1 } };
}

const recorded = () => loadSnapshotFile('url-path-real-stack', repoRoot);

describe('DATA_SERVICE_URL with a path data-service does not serve (real stack)', () => {
  it('the first finding names the variable, its file and line, and the URL without the path', () => {
    const findings = diagnoseSnapshot(withConfig(recorded(), 'http://127.0.0.1:3004/v1'));
    const [first] = findings;
    expect(first).toMatchObject({
      kind: 'config-mismatch',
      service: 'auth-service',
      severity: 'error',
      location: { file: 'services/auth/.env', line: 1, column: 1 },
    });
    expect(first?.summary).toBe(
      'auth-service\'s DATA_SERVICE_URL (services/auth/.env:1) adds the path /v1 before every route, but data-service serves its routes at its root: it answers "not found" to /v1/...',
    );
    expect(first?.next).toBe(
      'set DATA_SERVICE_URL=http://127.0.0.1:3004 in services/auth/.env, then pnpm devctl restart auth-service --wait',
    );
    expect(first?.evidence.some((e) => e.text.includes('route GET /v1/health not found'))).toBe(true);
    // "not ready" and "failed to reach data-service" are the same fault: no other auth-service finding.
    expect(findings.filter((f) => f.service === 'auth-service')).toHaveLength(1);
    expect(findings.filter((f) => f.service === 'data-service' && f.severity === 'error')).toEqual([]);
  });

  it('without the path in the configuration (another cause of the same 404s), no config-mismatch', () => {
    const findings = diagnoseSnapshot(withConfig(recorded(), 'http://127.0.0.1:3004'));
    expect(findings.filter((f) => f.kind === 'config-mismatch')).toEqual([]);
    expect(findings.some((f) => f.service === 'auth-service')).toBe(true);
  });
});
