import { randomUUID } from 'node:crypto';
import { conflict, notFound } from '@repo/service-kit';
import type { Database, Queryable, SqlValue } from './db';
import { type Clock, iso, isoOrNull } from './store/clock';
import { newId } from './store/ids';

export const JOB_STATUSES = ['pending', 'running', 'done', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface Job {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  leaseToken: string | null;
  leasedBy: string | null;
  leaseUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface JobInput {
  type: string;
  payload?: Record<string, unknown>;
  idempotencyKey: string;
  maxAttempts?: number;
  /** Epoch ms; now when omitted. */
  runAt?: number;
}

export interface QueueOptions {
  clock: Clock;
  defaultMaxAttempts: number;
  defaultLeaseMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface JobStats {
  pending: number;
  running: number;
  done: number;
  dead: number;
  /** How long the oldest due pending job has waited since its runAt; null when none is due. */
  oldestPendingAgeMs: number | null;
}

interface JobRow {
  id: string;
  type: string;
  payload: string;
  idempotency_key: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: number;
  lease_token: string | null;
  leased_by: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** Longest `lastError` kept: enough for a message and the top of a stack. */
const MAX_ERROR_LENGTH = 4000;

const toJob = (row: JobRow): Job => ({
  id: row.id,
  type: row.type,
  payload: JSON.parse(row.payload) as Record<string, unknown>,
  idempotencyKey: row.idempotency_key,
  status: row.status,
  attempts: Number(row.attempts),
  maxAttempts: Number(row.max_attempts),
  runAt: iso(Number(row.run_at)),
  leaseToken: row.lease_token,
  leasedBy: row.leased_by,
  leaseUntil: isoOrNull(row.lease_until),
  lastError: row.last_error,
  createdAt: iso(Number(row.created_at)),
  updatedAt: iso(Number(row.updated_at)),
});

const byRunAtThenId = (a: Job, b: Job) => a.runAt.localeCompare(b.runAt) || a.id.localeCompare(b.id);

/** Delay before retry number `attempts` (1-based): base x 2^(attempts-1), capped at max. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * A durable job queue in the database, delivered at least once: a claimed job is leased to one
 * worker until `leaseUntil`; if the worker neither acks nor fails it in time, the next claim takes
 * it again. Every change is a single conditional UPDATE, so two workers never hold the same lease.
 */
export function createJobQueue(db: Database, options: QueueOptions) {
  const { clock } = options;

  const get = async (id: string, on: Queryable = db): Promise<Job | undefined> => {
    const { rows } = await on.query<JobRow>('SELECT * FROM jobs WHERE id = ?', [id]);
    return rows[0] && toJob(rows[0]);
  };

  const leaseLost = (job: Job) =>
    conflict(
      `lease lost: job ${job.id} is ${job.status}${job.status === 'running' && job.leasedBy ? ` (leased by ${job.leasedBy})` : ''} ` +
        'and the lease token no longer matches; another worker may have claimed it after the lease expired',
    );

  return {
    get,

    /**
     * Adds a job unless one with the same idempotency key exists; then returns that one untouched.
     * Pass `on` to enqueue inside a caller's transaction.
     */
    async enqueue(input: JobInput, on: Queryable = db): Promise<{ job: Job; created: boolean }> {
      const now = clock.now();
      const { rows } = await on.query<JobRow>(
        `INSERT INTO jobs (id, type, payload, idempotency_key, status, attempts, max_attempts, run_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING *`,
        [
          newId(),
          input.type,
          JSON.stringify(input.payload ?? {}),
          input.idempotencyKey,
          input.maxAttempts ?? options.defaultMaxAttempts,
          input.runAt ?? now,
          now,
          now,
        ],
      );
      if (rows[0]) return { job: toJob(rows[0]), created: true };
      const existing = await on.query<JobRow>('SELECT * FROM jobs WHERE idempotency_key = ?', [
        input.idempotencyKey,
      ]);
      if (!existing.rows[0])
        throw new Error(`jobs: key ${input.idempotencyKey} conflicted but cannot be read back`);
      return { job: toJob(existing.rows[0]), created: false };
    },

    /**
     * Leases up to `limit` due jobs to `worker`: pending ones whose runAt has come, and running ones
     * whose lease expired. Each claim counts as an attempt; a job whose lease expired on its last
     * attempt goes to `dead` instead.
     */
    async claim(input: {
      worker: string;
      limit?: number;
      leaseMs?: number;
      types?: string[];
    }): Promise<Job[]> {
      const now = clock.now();
      const leaseUntil = now + (input.leaseMs ?? options.defaultLeaseMs);
      const token = randomUUID();
      const types = input.types ?? [];
      const typeFilter = types.length > 0 ? ` AND type IN (${types.map(() => '?').join(', ')})` : '';
      // Two statements, each atomic on its own; no transaction, so no lock is held between them.
      await db.query(
        `UPDATE jobs SET status = 'dead', lease_until = NULL, updated_at = ?,
           last_error = 'lease expired on the last attempt: the worker neither acked nor failed the job in time'
         WHERE status = 'running' AND lease_until <= ? AND attempts >= max_attempts`,
        [now, now],
      );
      const params: SqlValue[] = [token, input.worker, leaseUntil, now, now, now, ...types, input.limit ?? 1];
      const { rows } = await db.query<JobRow>(
        `UPDATE jobs
         SET status = 'running', attempts = attempts + 1, lease_token = ?, leased_by = ?, lease_until = ?, updated_at = ?
         WHERE id IN (
           SELECT id FROM jobs
           WHERE ((status = 'pending' AND run_at <= ?) OR (status = 'running' AND lease_until <= ?))${typeFilter}
           ORDER BY run_at, id
           LIMIT ?${db.skipLockedClause}
         )
         RETURNING *`,
        params,
      );
      return rows.map(toJob).sort(byRunAtThenId);
    },

    /** Marks a leased job done. Repeating an ack with the same token answers the done job again. */
    async ack(id: string, leaseToken: string): Promise<Job> {
      const now = clock.now();
      const { rows } = await db.query<JobRow>(
        `UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = ?
         WHERE id = ? AND lease_token = ? AND status = 'running'
         RETURNING *`,
        [now, id, leaseToken],
      );
      if (rows[0]) return toJob(rows[0]);
      const job = await get(id);
      if (!job) throw notFound(`job ${id} not found`);
      if (job.status === 'done' && job.leaseToken === leaseToken) return job;
      throw leaseLost(job);
    },

    /**
     * Records a failed attempt: back to pending after the backoff, or dead once maxAttempts is
     * reached. Repeating a fail with the same token answers the job as it is.
     */
    async fail(id: string, leaseToken: string, error: string): Promise<Job> {
      return db.transaction(async (tx) => {
        const job = await get(id, tx);
        if (!job) throw notFound(`job ${id} not found`);
        if (
          job.leaseToken === leaseToken &&
          (job.status === 'pending' || job.status === 'dead') &&
          !job.leaseUntil
        ) {
          return job;
        }
        if (job.status !== 'running' || job.leaseToken !== leaseToken) throw leaseLost(job);
        const now = clock.now();
        const dead = job.attempts >= job.maxAttempts;
        const runAt = dead
          ? Date.parse(job.runAt)
          : now + backoffMs(job.attempts, options.backoffBaseMs, options.backoffMaxMs);
        const { rows } = await tx.query<JobRow>(
          `UPDATE jobs SET status = ?, run_at = ?, lease_until = NULL, last_error = ?, updated_at = ?
           WHERE id = ? AND lease_token = ? AND status = 'running'
           RETURNING *`,
          [dead ? 'dead' : 'pending', runAt, error.slice(0, MAX_ERROR_LENGTH), now, id, leaseToken],
        );
        if (!rows[0]) throw leaseLost((await get(id, tx)) ?? job);
        return toJob(rows[0]);
      });
    },

    async stats(): Promise<JobStats> {
      const now = clock.now();
      const counts = await db.query<{ status: JobStatus; n: number }>(
        'SELECT status, COUNT(*) AS n FROM jobs GROUP BY status',
      );
      const oldest = await db.query<{ run_at: number | null }>(
        "SELECT MIN(run_at) AS run_at FROM jobs WHERE status = 'pending' AND run_at <= ?",
        [now],
      );
      const stats: JobStats = { pending: 0, running: 0, done: 0, dead: 0, oldestPendingAgeMs: null };
      for (const row of counts.rows) stats[row.status] = Number(row.n);
      const oldestRunAt = oldest.rows[0]?.run_at;
      if (oldestRunAt !== null && oldestRunAt !== undefined)
        stats.oldestPendingAgeMs = now - Number(oldestRunAt);
      return stats;
    },

    /** Newest first. */
    async list(filter: { status?: JobStatus; type?: string; limit: number }): Promise<Job[]> {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.status) {
        where.push('status = ?');
        params.push(filter.status);
      }
      if (filter.type) {
        where.push('type = ?');
        params.push(filter.type);
      }
      params.push(filter.limit);
      const { rows } = await db.query<JobRow>(
        `SELECT * FROM jobs${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        params,
      );
      return rows.map(toJob);
    },

    /** Deletes dead jobs last changed before `olderThan` (epoch ms), or every dead job. */
    async purgeDead(olderThan?: number): Promise<number> {
      const { rowCount } =
        olderThan === undefined
          ? await db.query("DELETE FROM jobs WHERE status = 'dead'")
          : await db.query("DELETE FROM jobs WHERE status = 'dead' AND updated_at < ?", [olderThan]);
      return rowCount;
    },
  };
}

export type JobQueue = ReturnType<typeof createJobQueue>;
