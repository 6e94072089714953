import { conflict, HttpError, type Logger, notFound } from '@repo/service-kit';
import { Cron } from 'croner';
import type { ScheduleDefinition } from './schedules';

export type RunResult = ({ ok: true } & Record<string, unknown>) | { ok: false; error: string };

export interface ScheduleStatus {
  name: string;
  cron: string;
  description: string;
  nextRun: string | null;
  lastRun: string | null;
  lastResult: RunResult | null;
  running: boolean;
}

interface Entry {
  definition: ScheduleDefinition;
  cron: Cron;
  lastRun: Date | null;
  lastResult: RunResult | null;
  inFlight: Promise<RunResult> | undefined;
}

/**
 * Asks who runs one tick (the time the cron fired for) when several replicas run the same schedules:
 * true for exactly one of them. Without it every tick runs here (one replica).
 */
export type ClaimTick = (schedule: string, tick: Date) => Promise<{ claimed: boolean; holder: string }>;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Runs schedule definitions on their cron expressions (croner) and on demand. With `claimTick`
 * (data-service's tick claims), each tick runs on one replica only. A schedule never overlaps itself: a tick that comes while the previous run is still going is skipped, and a
 * run-now request answers 409. Each run's outcome is kept for `GET /schedules`.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private started = false;

  constructor(
    definitions: ScheduleDefinition[],
    private readonly logger: Logger,
    private readonly claimTick?: ClaimTick,
  ) {
    for (const definition of definitions) {
      // No function yet: croner sets no timer until start(), but can already tell the next run.
      const cron = new Cron(definition.cron, { protect: true });
      this.entries.set(definition.name, {
        definition,
        cron,
        lastRun: null,
        lastResult: null,
        inFlight: undefined,
      });
    }
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) {
      entry.cron.schedule(async () => {
        // The tick is the time this run was scheduled for, not the time the timer fired: every
        // replica names it alike, however late its event loop let the timer run.
        const tick = entry.cron.previousRuns(1, new Date(Date.now() + 1))[0] ?? new Date();
        if (entry.inFlight) {
          this.logger.warn(`${entry.definition.name}: previous run still going, this tick is skipped`);
          return;
        }
        if (!(await this.claim(entry, tick))) return;
        await this.execute(entry, 'cron', tick);
      });
      this.logger.info(
        `${entry.definition.name} scheduled "${entry.definition.cron}", next run ${entry.cron.nextRun()?.toISOString() ?? 'never'}`,
      );
    }
  }

  /** Stops every cron job and waits for runs in progress. */
  async stop(): Promise<void> {
    for (const entry of this.entries.values()) entry.cron.stop();
    await Promise.all([...this.entries.values()].map((entry) => entry.inFlight));
  }

  list(): ScheduleStatus[] {
    return [...this.entries.values()].map((entry) => ({
      name: entry.definition.name,
      cron: entry.definition.cron,
      description: entry.definition.description,
      nextRun: entry.cron.isStopped() ? null : (entry.cron.nextRun()?.toISOString() ?? null),
      lastRun: entry.lastRun?.toISOString() ?? null,
      lastResult: entry.lastResult,
      running: entry.inFlight !== undefined,
    }));
  }

  /** Runs one schedule now; answers with its result, or throws a 404/409/502 that says why. */
  async runNow(name: string): Promise<RunResult> {
    const entry = this.entries.get(name);
    if (!entry) {
      throw notFound(`no schedule named ${name}; schedules: ${[...this.entries.keys()].join(', ')}`);
    }
    if (entry.inFlight) throw conflict(`${name} is already running (since ${entry.lastRun?.toISOString()})`);
    const result = await this.execute(entry, 'manual');
    if (!result.ok) throw new HttpError(502, `${name} failed: ${result.error}`);
    return result;
  }

  /** True when this replica runs the tick; a tick that cannot be claimed is skipped, not run twice. */
  private async claim(entry: Entry, tick: Date): Promise<boolean> {
    if (!this.claimTick) return true;
    const { name } = entry.definition;
    try {
      const { claimed, holder } = await this.claimTick(name, tick);
      if (!claimed)
        this.logger.debug(
          { schedule: name, tick: tick.toISOString(), holder },
          `${name}: tick taken by ${holder}`,
        );
      return claimed;
    } catch (error) {
      entry.lastRun = new Date();
      entry.lastResult = { ok: false, error: `tick ${tick.toISOString()} not claimed: ${message(error)}` };
      this.logger.error(
        { err: error, schedule: name, tick: tick.toISOString() },
        `${name}: tick ${tick.toISOString()} skipped, it could not be claimed (another replica may run it): ${message(error)}`,
      );
      return false;
    }
  }

  private async execute(entry: Entry, trigger: 'cron' | 'manual', tick?: Date): Promise<RunResult> {
    const { name } = entry.definition;
    entry.lastRun = new Date();
    const started = performance.now();
    const attempt = (async (): Promise<RunResult> => {
      try {
        const outcome = await entry.definition.run();
        const durationMs = Math.round(performance.now() - started);
        this.logger.info(
          { schedule: name, trigger, tick: tick?.toISOString(), durationMs, ...outcome },
          `${name} done (${trigger}) in ${durationMs} ms`,
        );
        return { ok: true, ...outcome };
      } catch (error) {
        this.logger.error(
          { err: error, schedule: name, trigger, tick: tick?.toISOString() },
          `${name} failed (${trigger}): ${message(error)}`,
        );
        return { ok: false, error: message(error) };
      }
    })();
    entry.inFlight = attempt;
    try {
      entry.lastResult = await attempt;
      return entry.lastResult;
    } finally {
      entry.inFlight = undefined;
    }
  }
}
