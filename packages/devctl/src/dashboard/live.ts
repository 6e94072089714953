// The one live connection of the page (server-sent events): status snapshots and new log lines.
// It costs the stack nothing while no page is open: the bus subscription, the status interval and
// the log follower start with the first connection and stop with the last, so a dashboard left
// running with its page closed sends no probe and makes no service write a line.
// With a page open: a status snapshot at once on every PM2 process event (the bus), and every
// STATUS_INTERVAL_MS for CPU, memory and uptime, which PM2 has no event for. The /health probes
// of a snapshot are routine requests that the services log at debug (service-kit request-log.ts).
import type { ServerResponse } from 'node:http';
import { allApps, type Ecosystem } from '../ecosystem/index';
import { followSources, type LogEntry } from '../logs/index';
import { maskDeep } from '../mcp/mask';
import { collectStatus, type StatusReport } from '../status/index';
import { type BusSubscription, subscribeProcessEvents } from './bus';
import { logSources, toDashboardLine } from './logs';

export const STATUS_INTERVAL_MS = 5000;
/** A burst of process events (a restart: stop, exit, online) becomes one snapshot. */
const EVENT_SETTLE_MS = 250;
/** Log lines are sent in batches, so a burst of lines is one write per client. */
const LOG_FLUSH_MS = 200;
const HEARTBEAT_MS = 25_000;

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private interval: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private flush: NodeJS.Timeout | undefined;
  private bus: BusSubscription | undefined;
  private follow: AbortController | undefined;
  private pendingLines: ReturnType<typeof toDashboardLine>[] = [];
  private refreshing: Promise<void> | undefined;
  private again = false;
  /** The last snapshot sent, for a page that connects between two. */
  private last: StatusReport | undefined;

  constructor(private readonly ecosystem: Ecosystem) {}

  get connections(): number {
    return this.clients.size;
  }

  /** True while it watches the stack (the interval, the bus, the log follower): only with a page open. */
  get active(): boolean {
    return this.interval !== undefined || this.bus !== undefined || this.follow !== undefined;
  }

  add(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write('retry: 2000\n\n');
    this.clients.add(response);
    response.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.stop();
    });
    if (this.last) this.send(response, 'status', this.last);
    if (this.clients.size === 1) this.start();
    else void this.refresh();
  }

  /** A snapshot now (after an action, or a bus event). Concurrent calls coalesce into one more. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          const report = maskDeep(await collectStatus(this.ecosystem, [], { readiness: true }));
          this.last = report;
          this.broadcast('status', report);
        } while (this.again && this.clients.size > 0);
      } catch (error) {
        this.broadcast('problem', { message: `status: ${(error as Error).message}` });
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  close(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
    this.stop();
  }

  private start(): void {
    void this.refresh();
    this.interval = setInterval(() => {
      if (!this.bus) this.subscribe();
      void this.refresh();
    }, STATUS_INTERVAL_MS);
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) client.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.subscribe();
    this.follow = new AbortController();
    void followSources(logSources(allApps(this.ecosystem)), (entry) => this.onLine(entry), {
      signal: this.follow.signal,
      pollIntervalMs: 2000,
    }).catch((error: Error) => this.broadcast('problem', { message: `logs: ${error.message}` }));
  }

  private subscribe(): void {
    const names = new Set(allApps(this.ecosystem).map((app) => app.name));
    this.bus = subscribeProcessEvents(
      (event) => {
        if (!names.has(event.name)) return;
        if (event.namespace !== undefined && event.namespace !== this.ecosystem.namespace) return;
        clearTimeout(this.settle);
        this.settle = setTimeout(() => void this.refresh(), EVENT_SETTLE_MS);
      },
      () => {
        this.bus = undefined;
      },
    );
  }

  private stop(): void {
    clearInterval(this.interval);
    clearInterval(this.heartbeat);
    clearTimeout(this.settle);
    clearTimeout(this.flush);
    this.interval = undefined;
    this.heartbeat = undefined;
    this.flush = undefined;
    this.pendingLines = [];
    this.bus?.close();
    this.bus = undefined;
    this.follow?.abort();
    this.follow = undefined;
  }

  private onLine(entry: LogEntry): void {
    this.pendingLines.push(toDashboardLine(entry, this.ecosystem.root));
    this.flush ??= setTimeout(() => {
      this.flush = undefined;
      const lines = this.pendingLines;
      this.pendingLines = [];
      if (lines.length > 0) this.broadcast('logs', lines);
    }, LOG_FLUSH_MS);
  }

  private broadcast(event: string, data: unknown): void {
    for (const client of this.clients) this.send(client, event, data);
  }

  private send(client: ServerResponse, event: string, data: unknown): void {
    client.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
