// Online in PM2 but not serving: GET /health or /ready fails or times out. The finding quotes the
// reason the service gives (the kit's /ready answers each check with its error). A /ready failing
// because another stack service is down is attributed to that service.
import type { ServiceSnapshot, Snapshot } from '../collect';
import type { CpuUse, StackFrame } from '../inspect';
import { isIdle } from '../inspect';
import type { Evidence } from '../types';
import { type Candidate, isDown, logsCommand, restartCommand, serviceNamed, systemEvidence } from './shared';

/** A process this young may still be opening its port. */
const STARTING_GRACE_MS = 3000;

interface ReadyCheck {
  ok?: boolean;
  error?: string;
}

export function detectUnhealthy(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    if (service.state !== 'online' || service.entry.port === undefined) continue;
    const young =
      service.process?.startedAt !== undefined &&
      snapshot.now - service.process.startedAt < STARTING_GRACE_MS;
    const { health, ready } = service;
    if (health && !health.ok) {
      if (young && health.error === 'ECONNREFUSED') continue;
      const reason = health.status
        ? `answered ${health.status}${bodyText(health.body)}`
        : (health.error ?? 'failed');
      const probeEvidence = systemEvidence(
        snapshot,
        name,
        `GET http://${service.host}:${service.entry.port}/health -> ${reason} (${health.latencyMs} ms)`,
        'probe',
      );
      if (service.stuck) {
        found.push(stuckFinding(snapshot, service, reason, probeEvidence));
        continue;
      }
      found.push({
        kind: 'unhealthy',
        service: name,
        severity: 'error',
        role: 'state',
        summary: `${name} is online in PM2 but GET /health ${reason}`,
        evidence: [probeEvidence],
        location: null,
        next: `${logsCommand(name)}; then ${restartCommand(name)}`,
      });
      continue;
    }
    if (ready && !ready.ok) {
      if (ready.status === 404) continue;
      const checks = ((ready.body as { checks?: Record<string, ReadyCheck> } | undefined)?.checks ??
        {}) as Record<string, ReadyCheck>;
      const failing = Object.entries(checks).filter(([, check]) => check?.ok === false);
      const reasons = failing.map(([check, result]) => `${check}: ${result.error ?? 'failed'}`);
      const reason =
        reasons.length > 0
          ? reasons.join('; ')
          : ready.status
            ? `answered ${ready.status}${bodyText(ready.body)}`
            : (ready.error ?? 'failed');
      // Not ready because a stack service it needs is down: that service is the root cause.
      const downDependency = failing
        .map(
          ([check, result]) =>
            serviceNamed(snapshot, check) ??
            snapshot.services.find((s) => String(result.error ?? '').startsWith(`${s.entry.name} `)),
        )
        .find((dependency) => dependency !== undefined && isDown(dependency));
      found.push({
        kind: 'unhealthy',
        service: name,
        severity: 'error',
        role: 'state',
        causedBy: downDependency?.entry.name,
        summary: `${name} is online but not ready: ${reason}`,
        evidence: [
          systemEvidence(
            snapshot,
            name,
            `GET http://${service.host}:${service.entry.port}/ready -> ${ready.status ?? ready.error} (${ready.latencyMs} ms): ${reason}`,
            'probe',
          ),
        ],
        location: null,
        next:
          failing.length > 0
            ? `make ${failing.map(([check]) => check).join(', ')} reachable for ${name} (${logsCommand(name)}), then ${restartCommand(name)}`
            : `${logsCommand(name)}; then ${restartCommand(name)}`,
      });
    }
  }
  return found;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === '') return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `: ${text.length > 200 ? `${text.slice(0, 197)}...` : text}`;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

function cpuText(cpu: CpuUse): string {
  return `main thread ${percent(cpu.mainThread)} of a core (whole process ${percent(cpu.process)}) over ${(cpu.windowMs / 1000).toFixed(1)} s, runnable in ${cpu.runnable} of ${cpu.samples} looks (pid ${cpu.pid}, /proc/${cpu.pid}/stat)`;
}

const frameText = (frame: StackFrame) =>
  `    at ${frame.functionName} (${frame.file}:${frame.line}:${frame.column})`;

/**
 * Online, /health unanswered twice, and what the process does meanwhile: a busy main thread is a
 * loop that never yields (its stack says where); an idle one waits on something that never comes.
 * Neither is fixed by a restart, which only runs into the same code again.
 */
function stuckFinding(
  snapshot: Snapshot,
  service: ServiceSnapshot,
  reason: string,
  probeEvidence: Evidence,
): Candidate {
  const name = service.entry.name;
  const { cpu, stack } = service.stuck ?? {};
  const evidence = [probeEvidence];
  if (cpu) evidence.push(systemEvidence(snapshot, name, `CPU: ${cpuText(cpu)}`));
  const base = { kind: 'unhealthy' as const, service: name, severity: 'error' as const };
  if (!cpu) {
    return {
      ...base,
      role: 'state',
      summary: `${name} is online in PM2 but GET /health ${reason}`,
      evidence,
      location: null,
      next: `${logsCommand(name)}; then ${restartCommand(name)}`,
    };
  }
  if (isIdle(cpu)) {
    return {
      ...base,
      role: 'cause',
      summary: `${name} is online in PM2 but GET /health ${reason}; its event loop is idle (main thread ${percent(cpu.mainThread)} of a core): a handler waits on something that never settles`,
      evidence,
      location: null,
      next: `pnpm devctl logs ${name} --lines 50 (a request logged as "incoming request" with no "request completed" names the route); make what that handler awaits settle or time out (a promise never resolved, a lock, a call without a timeout), then ${restartCommand(name)} (a restart alone hangs again on the next request)`,
    };
  }
  const frames = stack && 'frames' in stack ? stack.frames : [];
  const own = frames.find((frame) => frame.own);
  if (stack && 'error' in stack)
    evidence.push(systemEvidence(snapshot, name, `stack not read: ${stack.error}`));
  if (stack?.inspectorLeftOpen) {
    evidence.push(
      systemEvidence(
        snapshot,
        name,
        `its inspector, opened to read the stack, is still open on 127.0.0.1:${stack.inspectorLeftOpen} (the process did not run inspector.close(); a restart closes it)`,
      ),
    );
  }
  if (frames.length > 0) {
    evidence.push(
      systemEvidence(
        snapshot,
        name,
        `JavaScript stack when paused through the inspector (opened and closed again):\n${frames.map(frameText).join('\n')}`,
      ),
    );
  }
  const where = own ? `${own.file}:${own.line}:${own.column}` : undefined;
  return {
    ...base,
    role: 'cause',
    summary: `${name} is online in PM2 but its event loop is stuck: GET /health ${reason}; main thread at ${percent(cpu.mainThread)} of a core${where ? `, busy in ${own?.functionName} at ${where}` : ''}`,
    evidence,
    location: own ? { file: own.file, line: own.line, column: own.column } : null,
    next: where
      ? `fix the loop at ${where} (it never yields: an exit condition never met, or synchronous work too large for one turn of the event loop), then ${restartCommand(name)} (a restart alone runs into the same loop)`
      : `find the loop that never yields in ${service.entry.folder}/src (node --inspect and a pause show where: kill -USR1 ${cpu.pid}, then chrome://inspect); fix it, then ${restartCommand(name)} (a restart alone runs into the same loop)`,
  };
}
