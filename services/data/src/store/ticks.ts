import type { Database } from '../db';
import { type Clock, iso } from './clock';

/** How long a claimed tick is remembered: far longer than any schedule's period or clock skew. */
const KEEP_TICKS_MS = 7 * 24 * 60 * 60 * 1000;

export interface TickClaim {
  schedule: string;
  tick: string;
  holder: string;
  /** True when `holder` is the one asking: it runs the tick; false when another replica has it. */
  claimed: boolean;
}

/**
 * Schedule ticks claimed by scheduler replicas: the first to claim (schedule, tick) runs it, every
 * other replica skips it. Asking again with the same holder answers `claimed` again (a retried request).
 */
export function createTickStore(db: Database, clock: Clock) {
  return {
    async claim(input: { schedule: string; tick: number; holder: string }): Promise<TickClaim> {
      const now = clock.now();
      const { rows } = await db.query<{ holder: string }>(
        `INSERT INTO schedule_ticks (schedule, tick, holder, claimed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (schedule, tick) DO NOTHING
         RETURNING holder`,
        [input.schedule, input.tick, input.holder, now],
      );
      let holder = rows[0]?.holder;
      if (holder === undefined) {
        const existing = await db.query<{ holder: string }>(
          'SELECT holder FROM schedule_ticks WHERE schedule = ? AND tick = ?',
          [input.schedule, input.tick],
        );
        holder = existing.rows[0]?.holder;
        if (holder === undefined)
          throw new Error(
            `schedule_ticks: ${input.schedule} tick ${iso(input.tick)} conflicted but cannot be read back`,
          );
      } else {
        // The table would otherwise grow by one row per tick forever.
        await db.query('DELETE FROM schedule_ticks WHERE schedule = ? AND tick < ?', [
          input.schedule,
          input.tick - KEEP_TICKS_MS,
        ]);
      }
      return { schedule: input.schedule, tick: iso(input.tick), holder, claimed: holder === input.holder };
    },
  };
}

export type TickStore = ReturnType<typeof createTickStore>;
