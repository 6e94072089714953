import { notFound, z } from '@repo/service-kit';
import { JOB_STATUSES } from '../queue';
import type { RoutePlugin } from './context';
import { jobSchema, jobStatsSchema } from './schemas';

/** The fields of a new job, shared with the job given alongside a submission. */
export const jobInputFields = {
  type: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()).optional(),
  idempotencyKey: z.string().min(1).max(200),
  maxAttempts: z.number().int().min(1).max(100).optional(),
};

const enqueueBody = z.strictObject({ ...jobInputFields, runAt: z.iso.datetime({ offset: true }).optional() });

const claimBody = z.strictObject({
  worker: z.string().min(1).max(200),
  limit: z.number().int().min(1).max(100).optional(),
  leaseMs: z.number().int().min(1000).max(3_600_000).optional(),
  types: z.array(z.string().min(1).max(100)).min(1).max(50).optional(),
});

const leaseBody = z.strictObject({ leaseToken: z.string().min(1) });
const failBody = z.strictObject({ leaseToken: z.string().min(1), error: z.string().min(1) });
const idParams = z.strictObject({ id: z.string().min(1) });

const listQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  type: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const purgeQuery = z.strictObject({ olderThan: z.iso.datetime({ offset: true }).optional() });

const jobList = z.strictObject({ jobs: z.array(jobSchema) });

export const jobRoutes: RoutePlugin = async (app, { store }) => {
  app.post(
    '/jobs',
    { schema: { body: enqueueBody, response: { 200: jobSchema, 201: jobSchema } } },
    async (req, reply) => {
      const { runAt, ...body } = req.body;
      const { job, created } = await store.queue.enqueue({
        ...body,
        runAt: runAt === undefined ? undefined : Date.parse(runAt),
      });
      reply.code(created ? 201 : 200);
      return job;
    },
  );

  // The worker polls this every WORKER_POLL_INTERVAL_MS: a poll that finds nothing is routine (not
  // logged at info); one that hands out jobs logs them, the change of state worth reading.
  app.post(
    '/jobs/claim',
    { config: { routine: true }, schema: { body: claimBody, response: { 200: jobList } } },
    async (req) => {
      const body = req.body;
      const jobs = await store.queue.claim(body);
      if (jobs.length > 0) {
        req.log.info(
          {
            worker: body.worker,
            jobs: jobs.map((job) => ({ id: job.id, type: job.type, attempt: job.attempts })),
          },
          `claimed ${jobs.length} job(s) for ${body.worker}: ${jobs
            .map((job) => `${job.id} (${job.type}, attempt ${job.attempts}/${job.maxAttempts})`)
            .join(', ')}`,
        );
      }
      return { jobs };
    },
  );

  app.get('/jobs/stats', { schema: { response: { 200: jobStatsSchema } } }, async () => store.queue.stats());

  app.get('/jobs', { schema: { querystring: listQuery, response: { 200: jobList } } }, async (req) => ({
    jobs: await store.queue.list(req.query),
  }));

  // scheduler-service's hourly purge: routine when there is nothing to purge.
  app.delete(
    '/jobs/dead',
    {
      config: { routine: true },
      schema: {
        querystring: purgeQuery,
        response: { 200: z.strictObject({ purged: z.number().int().min(0) }) },
      },
    },
    async (req) => {
      const { olderThan } = req.query;
      const purged = await store.queue.purgeDead(olderThan === undefined ? undefined : Date.parse(olderThan));
      if (purged > 0)
        req.log.info(
          { purged, olderThan },
          `purged ${purged} dead job(s)${olderThan ? ` older than ${olderThan}` : ''}`,
        );
      return { purged };
    },
  );

  app.get('/jobs/:id', { schema: { params: idParams, response: { 200: jobSchema } } }, async (req) => {
    const { id } = req.params;
    const job = await store.queue.get(id);
    if (!job) throw notFound(`job ${id} not found`);
    return job;
  });

  app.post(
    '/jobs/:id/ack',
    { schema: { params: idParams, body: leaseBody, response: { 200: jobSchema } } },
    async (req) => store.queue.ack(req.params.id, req.body.leaseToken),
  );

  app.post(
    '/jobs/:id/fail',
    { schema: { params: idParams, body: failBody, response: { 200: jobSchema } } },
    async (req) => store.queue.fail(req.params.id, req.body.leaseToken, req.body.error),
  );
};
