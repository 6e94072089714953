// A port conflict: the service could not listen (the kit's `{"devctl":"listen-error"}` line,
// EADDRINUSE), or another process holds its port while PM2 shows it online (an orphan from an
// earlier run answering in its place). Names the holder: pid, command line, and whether it is an
// orphan of this project (safe to kill) or someone else's process.

import { describeHolder, type PortHolder } from '../../ports/holders';
import type { Snapshot } from '../collect';
import { type Candidate, errorEvidence, newErrors, restartCommand, systemEvidence } from './shared';

function holderNext(holder: PortHolder | undefined, port: number, name: string): string {
  if (!holder) return `port ${port} is free now: ${restartCommand(name)}`;
  if (holder.pid === undefined)
    return `free port ${port} (another user's process holds it) or give ${name} another PORT in ecosystem.config.js, then ${restartCommand(name)}`;
  if (holder.orphan) return `kill ${holder.pid} (a leftover of this project), then ${restartCommand(name)}`;
  if (holder.underPm2)
    return `stop the PM2 app holding it (pid ${holder.pid}; pm2 ls shows it) or give ${name} another PORT in ecosystem.config.js, then ${restartCommand(name)}`;
  return `stop pid ${holder.pid} or give ${name} another PORT in ecosystem.config.js, then ${restartCommand(name)}`;
}

export function detectPortConflicts(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const holder = service.portHolder;
    const listenErrors = newErrors(service).filter(
      (error) => error.origin === 'listen-error' || (error.code === 'EADDRINUSE' && error.origin === 'pino'),
    );
    const last = listenErrors[listenErrors.length - 1];
    const port = Number(last?.record?.port) || service.entry.port;
    if (port === undefined) continue;
    const running = service.state === 'online';
    if (last && !(running && !holder)) {
      const evidence = [errorEvidence(snapshot, name, last)];
      if (holder) evidence.push(systemEvidence(snapshot, name, describeHolder(holder)));
      found.push({
        kind: 'port-conflict',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: holder
          ? `${name} cannot listen: ${describeHolder(holder)}`
          : `${name} could not listen on port ${port} (EADDRINUSE); the port is free now`,
        evidence,
        location: null,
        next: holderNext(holder, port, name),
      });
      continue;
    }
    if (!holder) continue;
    if (running) {
      found.push({
        kind: 'port-conflict',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: `${name} is online in PM2, but ${describeHolder(holder)}: requests to port ${port} reach that process`,
        evidence: [systemEvidence(snapshot, name, describeHolder(holder))],
        location: null,
        next: holderNext(holder, port, name),
      });
    } else {
      const inPm2 = service.state !== 'not started';
      found.push({
        kind: 'port-conflict',
        service: name,
        severity: inPm2 ? 'error' : 'warning',
        role: 'cause',
        summary: `${name} ${inPm2 ? 'is not running and' : 'is not started;'} will fail to listen: ${describeHolder(holder)}`,
        evidence: [systemEvidence(snapshot, name, describeHolder(holder))],
        location: null,
        next: holderNext(holder, port, name).replace(
          restartCommand(name),
          `pnpm devctl start ${name} --wait`,
        ),
      });
    }
  }
  return found;
}
