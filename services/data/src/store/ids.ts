import { v7 } from 'uuid';

/**
 * UUIDv7: a UUID whose text sorts by creation time (monotonic within this process), so
 * `ORDER BY created_at, id` keeps insertion order even for rows created in the same millisecond.
 */
export const newId = (): string => v7();
