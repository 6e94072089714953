// Memory: resident memory rising steadily across the samples the collector took (with the figures
// and, when max_memory_restart is set, when PM2 will restart it), and restarts PM2 made because
// the process went past max_memory_restart (its daemon log says so).
import type { MemorySample, ServiceSnapshot, Snapshot } from '../collect';
import { type Candidate, clock, MiB, mib, pm2Evidence, restartCommand, systemEvidence } from './shared';

/** Growth must be at least this much, and this share of the start, to call it steady growth. */
const MIN_GROWTH = 8 * MiB;
const MIN_SHARE = 0.02;
/**
 * A fall larger than this between two samples is memory given back (not steady growth); smaller
 * ones are the collector trimming its young generation while something else keeps growing.
 */
const toleratedDrop = (bytes: number) => Math.max(4 * MiB, 0.02 * bytes);
/** The growth rate over the second half of the window, as a share of the whole window's rate. */
const LATE_SHARE = 0.3;
/** Memory restarts this recent count even from before the last requested start. */
const RESTART_WINDOW_MS = 30 * 60 * 1000;

export interface Growth {
  from: number;
  to: number;
  seconds: number;
  perSecond: number;
}

/** Steady growth across the samples, or undefined. */
export function steadyGrowth(samples: MemorySample[]): Growth | undefined {
  if (samples.length < 4) return undefined;
  const first = samples[0] as MemorySample;
  const last = samples[samples.length - 1] as MemorySample;
  const seconds = (last.time - first.time) / 1000;
  if (seconds < 0.5) return undefined;
  const growth = last.bytes - first.bytes;
  if (growth < MIN_GROWTH || growth < MIN_SHARE * first.bytes) return undefined;
  let rises = 0;
  for (let index = 1; index < samples.length; index++) {
    const step = (samples[index] as MemorySample).bytes - (samples[index - 1] as MemorySample).bytes;
    if (step < -toleratedDrop((samples[index - 1] as MemorySample).bytes)) return undefined;
    if (step > 0) rises++;
  }
  if (rises < (samples.length - 1) * 0.5) return undefined;
  // Still rising at the end (samples are not evenly spaced, so compare rates over time): a process
  // that grew while warming up and then levelled off is not leaking.
  const halfway = first.time + (last.time - first.time) / 2;
  const middle = samples.find((sample) => sample.time >= halfway) as MemorySample;
  const lateRate = middle.time < last.time ? (last.bytes - middle.bytes) / (last.time - middle.time) : 0;
  if (lateRate < LATE_SHARE * (growth / (last.time - first.time))) return undefined;
  const lastSteps = samples
    .slice(-3)
    .map((sample, index, list) => (index === 0 ? 0 : sample.bytes - (list[index - 1] as MemorySample).bytes));
  if (!lastSteps.some((step) => step > 256 * 1024)) return undefined;
  return { from: first.bytes, to: last.bytes, seconds, perSecond: growth / seconds };
}

function memoryRestarts(service: ServiceSnapshot, now: number) {
  return service.events.filter(
    (event) => event.kind === 'memory-restart' && event.time >= now - RESTART_WINDOW_MS,
  );
}

export function detectMemory(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const growth = steadyGrowth(service.memory);
    const restarts = memoryRestarts(service, snapshot.now);
    if (!growth && restarts.length === 0) continue;
    const limit = service.process?.maxMemoryRestart ?? restarts[restarts.length - 1]?.limit;
    const parts: string[] = [];
    if (growth) {
      let text = `resident memory grows steadily: ${mib(growth.from)} -> ${mib(growth.to)} in ${growth.seconds.toFixed(1)} s (+${mib(growth.perSecond)}/s)`;
      if (limit && growth.to < limit) {
        text += `; at this rate it reaches max_memory_restart (${mib(limit)}) in ~${Math.round((limit - growth.to) / growth.perSecond)} s`;
      }
      parts.push(text);
    }
    if (restarts.length > 0) {
      const last = restarts[restarts.length - 1];
      parts.push(
        `PM2 restarted it ${restarts.length} time${restarts.length === 1 ? '' : 's'} for going past max_memory_restart${limit ? ` (${mib(limit)})` : ''}, last at ${clock(last?.time ?? snapshot.now)}${last?.memory ? ` with ${mib(last.memory)}` : ''}`,
      );
    }
    const evidence = [
      ...(growth
        ? [
            systemEvidence(
              snapshot,
              name,
              `RSS samples (pid ${service.process?.pid}): ${service.memory.map((s) => mib(s.bytes)).join(', ')} over ${growth.seconds.toFixed(1)} s`,
            ),
          ]
        : []),
      ...restarts.slice(-3).map((event) => pm2Evidence(name, event)),
    ];
    found.push({
      kind: 'memory-growth',
      service: name,
      severity: restarts.length > 0 ? 'error' : 'warning',
      role: 'cause',
      summary: `${name}: ${parts.join('; ')}`,
      evidence,
      location: null,
      next: `find what keeps growing in ${service.entry.folder}/src (caches, arrays, listeners that are never released); watch it with pnpm devctl monit ${name}; ${restartCommand(name)} frees the memory meanwhile`,
    });
  }
  return found;
}
