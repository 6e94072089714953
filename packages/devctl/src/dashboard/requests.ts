// The recent requests of the stack, by id, for the dashboard's traces panel: read from the end of
// every service's logs (the same reader as `devctl logs`), grouped by request id, failed ones first.
// Each id opens with `trace()`, the function `devctl trace` and the MCP tool call.
import type { Ecosystem } from '../ecosystem/index';
import { type LogSource, logFiles, readLastMerged } from '../logs/index';

export interface RecentRequest {
  requestId: string;
  /** The method and url of the first hop seen (the request that came from outside). */
  method: string | null;
  url: string | null;
  /** The service that logged it first. */
  service: string;
  /** ISO time of its first line read. */
  time: string;
  /** The status the first hop answered, or null when it never answered (or it is not in the window). */
  status: number | null;
  /** Services that logged the id. */
  services: string[];
  failed: boolean;
}

interface Accumulated extends RecentRequest {
  firstTime: number;
}

const REQUEST_LINE = /"msg":"(incoming request|request completed|request errored)"/;

/** The `limit` most recent requests found in the last `linesPerLog` lines of the logs. */
export function recentRequests(ecosystem: Ecosystem, limit = 50, lines = 2000): RecentRequest[] {
  const sources: LogSource[] = ecosystem.services.flatMap((service) =>
    [
      { service: service.name, stream: 'out' as const, file: service.outFile },
      { service: service.name, stream: 'err' as const, file: service.errorFile },
    ].filter((source) => logFiles(source.file).length > 0),
  );
  const byId = new Map<string, Accumulated>();
  for (const entry of readLastMerged(sources, lines)) {
    const kind = REQUEST_LINE.exec(entry.raw)?.[1];
    if (!kind) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(entry.raw.slice(entry.raw.indexOf('{'))) as Record<string, unknown>;
    } catch {
      continue;
    }
    // A probe or a poll (the kit marks it `routine` when it fails or is slow): machinery, not a request.
    if (record.routine === true) continue;
    const id = record.reqId;
    if (typeof id !== 'string' && typeof id !== 'number') continue;
    const requestId = String(id);
    const time = entry.time.getTime();
    let request = byId.get(requestId);
    if (!request) {
      request = {
        requestId,
        method: null,
        url: null,
        service: entry.service,
        time: entry.time.toISOString(),
        firstTime: time,
        status: null,
        services: [],
        failed: false,
      };
      byId.set(requestId, request);
    }
    if (!request.services.includes(entry.service)) request.services.push(entry.service);
    const req = record.req as { method?: string; url?: string } | undefined;
    if (kind === 'incoming request' && request.method === null && entry.service === request.service) {
      request.method = req?.method ?? null;
      request.url = req?.url ?? null;
    }
    const statusCode = (record.res as { statusCode?: number } | undefined)?.statusCode;
    if (kind !== 'incoming request') {
      if (entry.service === request.service && typeof statusCode === 'number') request.status = statusCode;
      if (kind === 'request errored' || (typeof statusCode === 'number' && statusCode >= 500))
        request.failed = true;
    }
  }
  return [...byId.values()]
    .sort((a, b) => Number(b.failed) - Number(a.failed) || b.firstTime - a.firstTime)
    .slice(0, limit)
    .map(({ firstTime: _, ...request }) => request);
}
