import type { ServiceClient } from '@repo/service-kit';

export interface ScheduleDefinition {
  name: string;
  cron: string;
  description: string;
  /** Does the work once; the result is kept as the schedule's lastResult. */
  run: () => Promise<Record<string, unknown>>;
}

interface DigestOwner {
  ownerId: string;
  email: string;
  forms: { id: string; title: string; submissions: number }[];
}

interface Job {
  id: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `daily-digest`: one `send-digest-email` job per owner whose forms got submissions in the last day.
 * The key `digest:<owner>:<date>` makes a second run on the same (UTC) date a no-op in data-service.
 */
export function dailyDigest(
  data: ServiceClient,
  cron: string,
  now: () => Date = () => new Date(),
): ScheduleDefinition {
  return {
    name: 'daily-digest',
    cron,
    description: 'enqueue a send-digest-email job per owner with new submissions in the last day',
    async run() {
      const runAt = now();
      const since = new Date(runAt.getTime() - DAY_MS).toISOString();
      const date = runAt.toISOString().slice(0, 10);
      const { owners } = await data.get<{ owners: DigestOwner[] }>('/stats/digest', { query: { since } });
      const withNews = owners
        .map((owner) => ({ ...owner, forms: owner.forms.filter((f) => f.submissions > 0) }))
        .filter((owner) => owner.forms.length > 0);
      const jobIds: string[] = [];
      for (const owner of withNews) {
        const job = await data.post<Job>('/jobs', {
          type: 'send-digest-email',
          payload: { ownerId: owner.ownerId, email: owner.email, date, since, forms: owner.forms },
          idempotencyKey: `digest:${owner.ownerId}:${date}`,
        });
        jobIds.push(job.id);
      }
      return { date, since, owners: withNews.length, jobIds };
    },
  };
}

/** `purge-dead-jobs`: deletes dead jobs older than the retention, so the queue table stays small. */
export function purgeDeadJobs(
  data: ServiceClient,
  cron: string,
  retentionDays: number,
  now: () => Date = () => new Date(),
): ScheduleDefinition {
  return {
    name: 'purge-dead-jobs',
    cron,
    description: `delete dead jobs older than ${retentionDays} days`,
    async run() {
      const olderThan = new Date(now().getTime() - retentionDays * DAY_MS).toISOString();
      const { purged } = await data.delete<{ purged: number }>('/jobs/dead', { query: { olderThan } });
      return { olderThan, purged };
    },
  };
}
