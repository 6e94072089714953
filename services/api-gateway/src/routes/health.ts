import type { ServiceClient } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';

export type ServiceHealth =
  | { status: 'ok'; latencyMs: number }
  | { status: 'down'; latencyMs: number; error: string };

async function probe(client: ServiceClient, timeoutMs: number): Promise<ServiceHealth> {
  const started = performance.now();
  try {
    await client.get('/health', { timeoutMs });
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      status: 'down',
      latencyMs: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/**
 * GET /api/health: every backend's `/health`, probed in parallel, each within `probeTimeoutMs`.
 * Always 200, whatever is down: the gateway itself answered, and the body is the report (`status`
 * `degraded` and each down service with its error). A 5xx would make the frontend's proxy and
 * HTTP tooling treat the report as a failure of the gateway and hide which service is down.
 */
export function healthRoutes(
  app: FastifyInstance,
  options: { services: ServiceClient[]; probeTimeoutMs: number },
): void {
  // What the last answer said of each service: a change (down, up again) is logged, a repeat is not.
  const lastStatus = new Map<string, ServiceHealth['status']>();
  // Routine: the frontend's status page and people poll it; its changes of state are logged below.
  app.get('/api/health', { config: { routine: true } }, async (req) => {
    const probes = await Promise.all(
      options.services.map(
        async (client) => [client.name, await probe(client, options.probeTimeoutMs)] as const,
      ),
    );
    const services: Record<string, ServiceHealth> = { 'api-gateway': { status: 'ok', latencyMs: 0 } };
    for (const [name, health] of probes) {
      services[name] = health;
      const before = lastStatus.get(name);
      lastStatus.set(name, health.status);
      if (health.status === 'down' && before !== 'down') req.log.warn(`${name} is down: ${health.error}`);
      if (health.status === 'ok' && before === 'down') req.log.info(`${name} answers its /health again`);
    }
    const down = probes.filter(([, health]) => health.status === 'down').map(([name]) => name);
    return { status: down.length === 0 ? 'ok' : 'degraded', down, services };
  });
}
