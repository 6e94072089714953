// Replicas on PostgreSQL, as a cluster runs them: one real PostgreSQL server, two replicas of
// data-service, email-service, worker-service and scheduler-service as plain processes on their own
// ports, each pair behind a round-robin balancer (the cluster's Service). Submissions go in through
// the balancer; mid-way one replica of each is killed. Then everything is counted: each submission
// stored once, each email (confirmation, digest) written once, each job done once, each scheduled
// tick run once across the scheduler replicas, and the survivors finish the work.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SpawnedProcess, spawnRealService, type TempDir, tempDir } from '@repo/test-utils';
import { startPostgres, type TestPostgres } from '@repo/test-utils/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Balancer, startBalancer } from '../src/balancer';
import { call, pollUntil } from '../src/http';
import { readOutbox } from '../src/outbox';

interface Replica {
  name: string;
  url: string;
  process: SpawnedProcess;
}

/** One replica from its TypeScript source, on a free port; JSON logs at info, kept in memory. */
async function startReplica(folder: string, name: string, env: Record<string, string>): Promise<Replica> {
  const { url, process } = await spawnRealService(folder, env, { name, logLevel: 'info' });
  return { name, url, process };
}

/** The JSON log lines of a replica's output (pino), skipping anything else. */
function logLines(replica: Replica): Record<string, unknown>[] {
  return replica.process
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** How many values occur more than once, and the worst count. */
function duplicates(values: string[]): { distinct: number; repeated: string[] } {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    distinct: counts.size,
    repeated: [...counts].filter(([, n]) => n > 1).map(([v, n]) => `${v} x${n}`),
  };
}

describe('two replicas of each stateful service on one PostgreSQL', () => {
  let postgres: TestPostgres | undefined;
  const replicas: Replica[] = [];
  const balancers: Balancer[] = [];
  let outboxes: TempDir[] = [];
  let data: Balancer;
  let email: Balancer;
  const byName = (name: string) => replicas.find((r) => r.name === name) as Replica;

  beforeAll(async () => {
    postgres = await startPostgres({ database: 'replicas' });
    const dataEnv = {
      DATABASE_URL: postgres.url,
      DATABASE_POOL_MAX: '5',
      // A job whose worker died is claimed again once the worker's lease ends; retries come fast.
      JOB_MAX_ATTEMPTS: '30',
      JOB_BACKOFF_BASE_MS: '100',
      JOB_BACKOFF_MAX_MS: '1000',
    };
    // Both at the same moment on an empty database: the migrations must run once between them.
    replicas.push(
      ...(await Promise.all([
        startReplica('data', 'data-a', dataEnv),
        startReplica('data', 'data-b', dataEnv),
      ])),
    );
    data = await startBalancer([byName('data-a').url, byName('data-b').url]);
    balancers.push(data);

    // Each email replica has its own outbox, as two pods with their own volume (or two SMTP
    // senders): a key sent by both would be two files, which is what the test counts.
    outboxes = [tempDir('replica-outbox-a-'), tempDir('replica-outbox-b-')];
    const emailEnv = (outbox: TempDir) => ({
      DATA_SERVICE_URL: data.url,
      EMAIL_OUTBOX_DIR: outbox.path,
      // The reservation lasts 2 x (SMTP + upstream timeouts): 12 s here. 5 s for data-service: with
      // 2 s, on a loaded machine (load average 30 on 2 cores) both replicas of a raced key answered
      // 504 ("cannot tell whether it was sent, so it was not sent") for half a minute.
      SMTP_TIMEOUT_MS: '1000',
      UPSTREAM_TIMEOUT_MS: '5000',
    });
    replicas.push(
      ...(await Promise.all([
        startReplica('email', 'email-a', emailEnv(outboxes[0] as TempDir)),
        startReplica('email', 'email-b', emailEnv(outboxes[1] as TempDir)),
      ])),
    );
    email = await startBalancer([byName('email-a').url, byName('email-b').url]);
    balancers.push(email);

    const workerEnv = (name: string) => ({
      DATA_SERVICE_URL: data.url,
      EMAIL_SERVICE_URL: email.url,
      WORKER_NAME: name,
      WORKER_POLL_INTERVAL_MS: '100',
      // A lease outlasts a job's worst case (two data calls and the send, each bounded), so only a
      // dead worker's job is claimed again; a loaded machine makes every call slow.
      // (2 x 5 s + 12 s, the email replica's own worst case: reserve, send, record.)
      UPSTREAM_TIMEOUT_MS: '5000',
      EMAIL_TIMEOUT_MS: '12000',
      WORKER_LEASE_MS: '30000',
    });
    const schedulerEnv = {
      DATA_SERVICE_URL: data.url,
      // Every second and every two seconds, so the test sees many ticks.
      PURGE_CRON: '* * * * * *',
      DIGEST_CRON: '*/2 * * * * *',
    };
    replicas.push(
      ...(await Promise.all([
        startReplica('worker', 'worker-a', workerEnv('worker-a')),
        startReplica('worker', 'worker-b', workerEnv('worker-b')),
        startReplica('scheduler', 'scheduler-a', schedulerEnv),
        startReplica('scheduler', 'scheduler-b', schedulerEnv),
      ])),
    );
  }, 150_000);

  afterAll(async () => {
    // REPLICAS_LOG_DIR=<folder> keeps each replica's output there, to read after a failure.
    const keep = process.env.REPLICAS_LOG_DIR;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const r of replicas) writeFileSync(join(keep, `${r.name}.log`), r.process.output());
    }
    await Promise.all(replicas.map((r) => r.process.kill('SIGKILL')));
    await Promise.all(balancers.map((b) => b.close()));
    await postgres?.stop();
    for (const dir of outboxes) dir.cleanup();
  }, 60_000);

  it('stores each submission once, sends each email once, runs each job and each tick once, with one replica of each killed', async () => {
    const owner = await call<{ id: string }>(data.url, 'POST', '/users', {
      body: { email: `owner-${randomUUID()}@example.com`, passwordHash: 'x' },
    });
    expect(owner.status).toBe(201);
    const form = await call<{ id: string }>(data.url, 'POST', '/forms', {
      body: {
        ownerId: owner.body.id,
        title: 'Replicas',
        fields: [{ name: 'n', label: 'N', type: 'number', required: true }],
      },
    });
    expect(form.status).toBe(201);

    // A submission as form-service sends it: the answers and the confirmation job in one request.
    // A request in flight to the replica killed gets no answer: not acknowledged, and it may or
    // may not be stored. What is acknowledged must be stored, once.
    const acknowledgedIds: string[] = [];
    const unanswered: string[] = [];
    const submit = async (n: number) => {
      const answer = await call<{ id: string }>(data.url, 'POST', `/forms/${form.body.id}/submissions`, {
        body: {
          answers: { n },
          job: {
            type: 'send-confirmation-email',
            payload: { formId: form.body.id, answers: { n } },
            idempotencyKey: `submission:${randomUUID()}`,
          },
        },
        timeoutMs: 30_000,
      }).catch((error: Error) => {
        unanswered.push(`${error.message}${error.cause ? ` (${(error.cause as Error).message})` : ''}`);
        return undefined;
      });
      if (answer?.status === 201) acknowledgedIds.push(answer.body.id);
      return answer?.status ?? 0;
    };
    // A client that gave up on one replica and retried on the other: the same key sent to both
    // email replicas at the same moment. Only the reservation in data-service keeps it to one email.
    const raceKeys = Array.from({ length: 20 }, (_, i) => `race:${i}:${randomUUID()}`);
    // Each answer is kept (`email-a POST /send -> 201 ...`, `email-b ... 409 ...`, `email-a no
    // answer: ...`): a key with no email is reported with what both replicas answered for it.
    const raceAnswers = new Map<string, string[]>();
    const raceOnce = (keys: string[]) =>
      Promise.all(
        keys.flatMap((key) =>
          ['email-a', 'email-b'].map((name) =>
            call(byName(name).url, 'POST', '/send', {
              body: { idempotencyKey: key, to: 'race@example.com', subject: 'race', text: key },
            })
              .then((answer) => `${name} ${answer.describe.slice(0, 200)}`)
              // A replica killed meanwhile refuses the connection.
              .catch((error: Error) => `${name} no answer: ${error.message}`)
              .then((line) => raceAnswers.set(key, [...(raceAnswers.get(key) ?? []), line])),
          ),
        ),
      );
    // A replica that cannot reach data-service in time answers 504 and sends nothing ("cannot tell
    // whether ... was already sent, so it was not sent"), one that finds the key reserved by the
    // other answers 409 ("retry later"): on a loaded machine both answers of a key can be such, and
    // a client then retries. So does this one, racing both replicas again, until a replica sends the
    // key (bounded): still exactly one email per key is what is counted below.
    const race = async (keys: string[]) => {
      const deadline = Date.now() + 30_000;
      let unsent = keys;
      for (;;) {
        await raceOnce(unsent);
        unsent = unsent.filter((key) => !raceAnswers.get(key)?.some((line) => / -> 2\d\d /.test(line)));
        if (unsent.length === 0 || Date.now() > deadline) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    };

    const sent = 60;
    const statuses: number[] = [];
    // Bounded load: ten submissions at a time, half before the kills and half after.
    const submitAll = async (from: number, to: number) => {
      for (let n = from; n < to; n += 10)
        statuses.push(
          ...(await Promise.all(Array.from({ length: Math.min(10, to - n) }, (_, i) => submit(n + i)))),
        );
    };
    await submitAll(0, sent / 2);
    await race(raceKeys.slice(0, 10));

    // Mid-way, with jobs in flight: kill one replica of each. The worker, the scheduler and
    // data-service die at once (SIGKILL); email-service is stopped as a cluster stops a pod (SIGTERM,
    // in-flight sends finish) -- see docs/deploy.md for the one window SIGKILL leaves there.
    const killedAt = Date.now();
    await Promise.all([
      byName('worker-a').process.kill('SIGKILL'),
      byName('scheduler-a').process.kill('SIGKILL'),
      byName('data-a').process.kill('SIGKILL'),
      byName('email-a').process.kill('SIGTERM'),
    ]);
    await submitAll(sent / 2, sent);
    await race(raceKeys.slice(10)); // email-a is gone: its half is refused, email-b sends

    // Everything acknowledged is worked off by the survivors: every job done, none dead.
    await pollUntil(
      async () => (await call<Record<string, number>>(data.url, 'GET', '/jobs/stats')).body,
      (stats) => stats.pending === 0 && stats.running === 0 && (stats.done ?? 0) > 0,
      // A job the killed worker held is claimed again once its lease (30 s) ends.
      120_000,
    );
    // The surviving scheduler keeps ticking: wait for three purge ticks after the kill.
    const purgesAfterKill = () =>
      logLines(byName('scheduler-b')).filter(
        (l) =>
          l.schedule === 'purge-dead-jobs' && l.trigger === 'cron' && Date.parse(String(l.tick)) > killedAt,
      ).length;
    await pollUntil(purgesAfterKill, (n) => n >= 3, 30_000);

    // --- counts ---
    const stats = (await call<Record<string, number>>(data.url, 'GET', '/jobs/stats')).body;
    const storedIds = (
      await call<{ submissions: { id: string }[] }>(data.url, 'GET', `/forms/${form.body.id}/submissions`)
    ).body.submissions.map((s) => s.id);
    const stored = storedIds.length;
    const acknowledged = acknowledgedIds.length;
    const emails = outboxes.flatMap((dir) => readOutbox(dir.path));
    const emailKeys = duplicates(emails.map((e) => e.idempotencyKey ?? e.file));
    const confirmations = emails.filter((e) => e.idempotencyKey?.startsWith('submission:')).length;
    const digests = emails.filter((e) => e.idempotencyKey?.startsWith('digest:')).length;
    const raced = emails.filter((e) => e.idempotencyKey?.startsWith('race:')).length;

    const workers = ['worker-a', 'worker-b'].map(byName);
    const jobsDone = workers.flatMap((w) =>
      logLines(w)
        .filter((l) => typeof l.jobId === 'string' && / done in /.test(String(l.msg)))
        .map((l) => String(l.jobId)),
    );
    const doneTwice = duplicates(jobsDone);
    // Every claim data-service handed out (job, attempt, worker), and every attempt a worker ended
    // (done or failed). A job may be claimed again only once its previous attempt ended, or when
    // that attempt's worker was killed (its lease expired): anything else is two workers at once.
    const claims = ['data-a', 'data-b'].flatMap((name) =>
      logLines(byName(name)).flatMap((l) =>
        Array.isArray(l.jobs)
          ? (l.jobs as { id: string; attempt: number }[]).map((j) => ({
              job: j.id,
              attempt: j.attempt,
              worker: String(l.worker),
            }))
          : [],
      ),
    );
    const ended = new Set(
      workers.flatMap((w) =>
        logLines(w)
          // Done, failed, or its ack/fail lost with the data-service replica that took it (the job
          // then runs again once its lease ends: at least once). Not "lease lost": that one ran
          // past its lease while another worker was handed the job.
          .filter(
            (l) =>
              typeof l.jobId === 'string' &&
              / done in | failed on attempt |: (ack|fail) failed: /.test(String(l.msg)),
          )
          .map((l) => `${String(l.jobId)}#${String(l.attempt)}`),
      ),
    );
    const lastAttempt = new Map<string, number>();
    for (const c of claims) lastAttempt.set(c.job, Math.max(c.attempt, lastAttempt.get(c.job) ?? 0));
    const unended = claims.filter(
      (c) => c.attempt < (lastAttempt.get(c.job) ?? 0) && !ended.has(`${c.job}#${c.attempt}`),
    );
    const reclaimedAfterWorkerDied = unended.filter((c) => c.worker === 'worker-a');
    const runTwiceAtOnce = unended
      .filter((c) => c.worker !== 'worker-a')
      .map((c) => `${c.job} attempt ${c.attempt} (${c.worker}) claimed again before it ended`);
    const claimedTwiceSameAttempt = duplicates(claims.map((c) => `${c.job}#${c.attempt}`)).repeated;

    const ticks = ['scheduler-a', 'scheduler-b'].flatMap((name) =>
      logLines(byName(name))
        .filter((l) => l.trigger === 'cron' && typeof l.schedule === 'string')
        // A run names its tick; a scheduler from before tick claims did not, and its run starts in
        // the second of its tick (the time of its log line, to the second).
        .map(
          (l) =>
            `${String(l.schedule)}@${typeof l.tick === 'string' ? l.tick : `${String(l.time).slice(0, 19)}.000Z`}`,
        ),
    );
    const tickRuns = duplicates(ticks);
    const perSchedule = (schedule: string) => ticks.filter((t) => t.startsWith(`${schedule}@`)).length;

    const report = {
      sent,
      acknowledged,
      notAcknowledged: statuses.filter((s) => s !== 201),
      unanswered,
      stored,
      emails: emails.length,
      confirmations,
      digests,
      raceKeys: raceKeys.length,
      raceEmails: raced,
      duplicateEmails: emailKeys.repeated,
      jobs: stats,
      jobsDone: jobsDone.length,
      jobsDoneTwice: doneTwice.repeated,
      jobClaims: claims.length,
      jobsReclaimedAfterWorkerDied: reclaimedAfterWorkerDied.length,
      jobsRunTwiceAtOnce: [...runTwiceAtOnce, ...claimedTwiceSameAttempt],
      ticksRun: {
        'purge-dead-jobs': perSchedule('purge-dead-jobs'),
        'daily-digest': perSchedule('daily-digest'),
      },
      ticksRunTwice: tickRuns.repeated,
      balancedRequests: Object.fromEntries([...data.served, ...email.served]),
    };
    console.log(`replicas: ${JSON.stringify(report, null, 2)}`);

    // Lost are only the calls the balancer routed to data-a before it saw data-a gone: at most one
    // batch of ten after the kill (the keep-alive connections reset, then one refused connect each).
    // A CI run under load lost 7 (all "read ECONNRESET", none acknowledged, none stored): the
    // invariants that matter are below -- every acknowledged submission stored, none twice.
    expect(
      acknowledged,
      'all but the calls in flight to the killed replica acknowledged',
    ).toBeGreaterThanOrEqual(sent - 10);
    expect(
      acknowledgedIds.filter((id) => !storedIds.includes(id)),
      'every acknowledged submission stored',
    ).toEqual([]);
    expect(duplicates(storedIds).repeated, 'no submission stored twice').toEqual([]);
    expect(report.duplicateEmails, 'no key sent twice across the email replicas').toEqual([]);
    expect(confirmations, 'one confirmation per stored submission').toBe(stored);
    expect(digests, 'one digest for the one owner').toBe(1);
    const racedWithEmail = new Set(emails.map((e) => e.idempotencyKey));
    expect(
      raceKeys
        .filter((key) => !racedWithEmail.has(key))
        .map((key) => `${key}: ${raceAnswers.get(key)?.join(' | ')}`),
      'one email per raced key sent to both replicas at once: keys without one, and what the replicas answered',
    ).toEqual([]);
    expect(raced, 'one email per raced key sent to both replicas at once').toBe(raceKeys.length);
    expect(stats.dead, 'no job dead').toBe(0);
    expect(stats.done, 'every job done').toBe(stored + digests);
    expect(report.jobsDoneTwice, 'no job done twice').toEqual([]);
    // An ack lost with the data-service replica that stored it leaves a done job whose worker
    // logged "ack failed": fewer done lines than done jobs, never more.
    expect(jobsDone.length).toBeLessThanOrEqual(stats.done ?? 0);
    expect(report.jobsRunTwiceAtOnce, 'no job held by two workers at once').toEqual([]);
    expect(report.ticksRunTwice, 'no tick run by two scheduler replicas').toEqual([]);
    expect(
      purgesAfterKill(),
      'scheduler-b runs the ticks after scheduler-a was killed',
    ).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
