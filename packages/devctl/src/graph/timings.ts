import { cacheFile, readCache, writeCache } from '../cache';

/** One service's last measured start. */
export interface StartTiming {
  /** ISO time devctl launched the process (PM2's start call). */
  launchedAt: string;
  /**
   * ISO time devctl saw /health answer 2xx from that process (taken before anything that waited
   * for it was launched, so a dependant's launchedAt is never earlier); null when it never did.
   */
  healthyAt: string | null;
  /** Launch to healthy as the command measured and printed it ("healthy in N s"); null when never healthy. */
  launchToHealthyMs: number | null;
  /** The pid that answered (or PM2's pid when it never did); null when PM2 had none. */
  pid: number | null;
  /** ISO time the start/restart command began launching: the services launched by one command share it. */
  run: string;
}

export type StartTimings = Record<string, StartTiming>;

export function timingsFile(root: string): string {
  return cacheFile(root, 'startup.json');
}

const isTiming = (value: unknown): value is StartTiming => {
  const t = value as StartTiming;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.launchedAt === 'string' &&
    (t.healthyAt === null || typeof t.healthyAt === 'string') &&
    (t.launchToHealthyMs === null || typeof t.launchToHealthyMs === 'number') &&
    (t.healthyAt === null) === (t.launchToHealthyMs === null) &&
    (t.pid === null || typeof t.pid === 'number') &&
    typeof t.run === 'string'
  );
};

/** The recorded timings; an absent or unreadable file means none were recorded. */
export function readTimings(root: string): StartTimings {
  const raw = readCache(root, 'startup.json');
  if (raw === undefined) return {};
  // An entry of another shape (an older devctl) is dropped, not half-read.
  return Object.fromEntries(Object.entries(raw).filter(([, value]) => isTiming(value))) as StartTimings;
}

/**
 * Collects what one start or restart measured, then merges it into the file: services this command
 * did not launch keep their earlier entry (their last start is still that one).
 */
export class TimingRecorder {
  private readonly measured: StartTimings = {};
  private readonly run = new Date().toISOString();

  constructor(private readonly root: string) {}

  /**
   * A launch that was waited for, noted as soon as the wait is over: `launchedAt` is the wall clock
   * of the launch, `elapsedMs` the time to healthy (or to giving up) that the command prints. The
   * healthy time is the clock now, not launchedAt + elapsedMs: both are rounded to the millisecond,
   * and the sum could come out after the launch of a dependant that was started right after.
   */
  note(name: string, launchedAt: Date, outcome: { healthy: boolean; elapsedMs: number; pid: number | null }) {
    this.measured[name] = {
      launchedAt: launchedAt.toISOString(),
      healthyAt: outcome.healthy ? new Date().toISOString() : null,
      launchToHealthyMs: outcome.healthy ? outcome.elapsedMs : null,
      pid: outcome.pid,
      run: this.run,
    };
  }

  save(): void {
    if (Object.keys(this.measured).length === 0) return;
    // Unwritable (a read-only checkout): graph will say the timings are unknown, which is true.
    writeCache(this.root, 'startup.json', { ...readTimings(this.root), ...this.measured });
  }
}
