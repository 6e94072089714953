// A service missing from PM2 or stopped. An error when something that runs depends on it (it is then
// the root cause of their failures), a warning when nothing running needs it.
import type { Snapshot } from '../collect';
import { type Candidate, clock, dependentsOf, pm2Evidence, startCommand, systemEvidence } from './shared';

export function detectNotRunning(snapshot: Snapshot): Candidate[] {
  if (!snapshot.daemonRunning) {
    return [
      {
        kind: 'missing',
        service: 'all',
        severity: 'error',
        role: 'state',
        summary: `the PM2 daemon is not running (PM2_HOME=${snapshot.pm2Home}): no service of this project runs`,
        evidence: [systemEvidence(snapshot, 'all', `no PM2 daemon answers on ${snapshot.pm2Home}/rpc.sock`)],
        location: null,
        next: 'pnpm pm2:start',
      },
    ];
  }
  const missing = snapshot.services.filter((service) => service.state === 'not started');
  if (missing.length === snapshot.services.length && missing.length > 0) {
    return [
      {
        kind: 'missing',
        service: 'all',
        severity: 'error',
        role: 'state',
        summary: `no service of this project is in PM2 (namespace ${snapshot.ecosystem.namespace})`,
        evidence: [
          systemEvidence(
            snapshot,
            'all',
            `PM2 (${snapshot.pm2Home}) lists none of: ${missing.map((s) => s.entry.name).join(', ')}`,
          ),
        ],
        location: null,
        next: 'pnpm pm2:start',
      },
    ];
  }
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    if (service.state !== 'not started' && service.state !== 'stopped') continue;
    const running = dependentsOf(snapshot, name).filter((dependent) => dependent.state === 'online');
    const needed =
      running.length > 0
        ? `; ${running.map((s) => s.entry.name).join(', ')} depend${running.length === 1 ? 's' : ''} on it`
        : '';
    // The stop someone asked for in the last run, else its exit.
    const lastRun = service.events.slice(
      service.events.map((event) => event.kind).lastIndexOf('starting') + 1,
    );
    const stop =
      lastRun.find((event) => event.kind === 'stopping') ??
      lastRun.findLast((event) => event.kind === 'exited');
    const how =
      service.state === 'not started'
        ? 'is not in PM2 (never started, or deleted)'
        : stop?.kind === 'stopping'
          ? `was stopped at ${clock(stop.time)} (a stop someone asked for)`
          : `is stopped${service.process?.exitCode !== undefined ? ` (last exit code ${service.process.exitCode})` : ''}`;
    found.push({
      kind: service.state === 'not started' ? 'missing' : 'stopped',
      service: name,
      severity: running.length > 0 ? 'error' : 'warning',
      role: 'state',
      summary: `${name} ${how}${needed}`,
      evidence: stop
        ? [pm2Evidence(name, stop)]
        : [systemEvidence(snapshot, name, `PM2 status: ${service.process?.status ?? 'not listed'}`)],
      location: null,
      next: startCommand(name),
    });
  }
  return found;
}
