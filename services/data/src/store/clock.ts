/** Where the store reads the time; tests pass one they can move forward. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: unknown): string | null =>
  ms === null || ms === undefined ? null : iso(Number(ms));
