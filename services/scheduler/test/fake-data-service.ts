import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

interface EnqueuedJob {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  idempotencyKey: string;
}

/**
 * A real HTTP server playing the data-service routes the scheduler calls (docs/internal-api.md):
 * `/stats/digest` answers `digestOwners`, `POST /jobs` keeps one job per idempotency key, and
 * `DELETE /jobs/dead` reports `deadToPurge`, `POST /schedules/:name/ticks` gives each tick to its
 * first claimer. Every request is recorded.
 */
export async function startFakeDataService() {
  const state = {
    digestOwners: [] as {
      ownerId: string;
      email: string;
      forms: { id: string; title: string; submissions: number }[];
    }[],
    deadToPurge: 0,
  };
  const jobs: EnqueuedJob[] = [];
  const calls: { method: string; url: string; query: Record<string, string> }[] = [];
  const app = Fastify();
  app.addHook('onRequest', async (req) => {
    calls.push({
      method: req.method,
      url: req.url.split('?')[0] ?? req.url,
      query: req.query as Record<string, string>,
    });
  });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/stats/digest', async () => ({ owners: state.digestOwners }));
  app.post<{ Body: Omit<EnqueuedJob, 'id'> }>('/jobs', async (req, reply) => {
    const existing = jobs.find((j) => j.idempotencyKey === req.body.idempotencyKey);
    if (existing) return existing;
    const job = { id: randomUUID(), ...req.body };
    jobs.push(job);
    reply.code(201);
    return job;
  });
  const ticks = new Map<string, string>();
  app.post<{ Params: { name: string }; Body: { tick: string; holder: string } }>(
    '/schedules/:name/ticks',
    async (req, reply) => {
      const key = `${req.params.name}@${req.body.tick}`;
      const holder = ticks.get(key) ?? req.body.holder;
      ticks.set(key, holder);
      const claimed = holder === req.body.holder;
      reply.code(claimed ? 201 : 200);
      return { schedule: req.params.name, tick: req.body.tick, holder, claimed };
    },
  );
  app.delete('/jobs/dead', async () => ({ purged: state.deadToPurge }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    jobs,
    calls,
    callsTo: (method: string, path: string) => calls.filter((c) => c.method === method && c.url === path),
    close: () => app.close(),
  };
}
