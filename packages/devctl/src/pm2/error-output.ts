// What a service wrote to stderr while a start or restart watched it, as PM2's bus published it.
// PM2 can lose a process's last output from its log file: on the child's `exit` it destroys the
// log streams (lib/God/ForkMode.js, `forkClose`), and Node may report that exit before the last
// stderr data, which then has no stream to go to (a service that prints why and exits at once, as a
// configuration error does, under load). PM2 publishes each chunk on its bus (`log:err`) before it
// writes it, so a subscriber opened before the launch still sees those lines. An `error_file` of
// /dev/null (PM2's documented way to turn a log off) reaches the bus too, and never the file.
import { type BusSubscription, subscribeBus } from '../dashboard/bus';
import { pm2Home } from './rpc';

/** Lines kept per service: a crash loop repeats itself. */
const KEPT_LINES = 200;

export class ErrorOutput {
  private readonly lines = new Map<string, string[]>();
  private subscription: BusSubscription | undefined;

  private constructor(private readonly namespace: string) {}

  /**
   * Subscribes to the daemon's bus for the services of `namespace`; resolves once subscribed (or
   * after `waitMs`, or at once with no daemon: the capture then stays empty and start reads the
   * log files alone).
   */
  static async open(namespace: string, home = pm2Home(), waitMs = 1000): Promise<ErrorOutput> {
    const output = new ErrorOutput(namespace);
    const subscription = subscribeBus(
      (topic, data) => output.take(topic, data),
      () => {},
      home,
    );
    output.subscription = subscription;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      subscription.connected,
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
    return output;
  }

  private take(topic: string, data: unknown): void {
    if (topic !== 'log:err' || data === null || typeof data !== 'object') return;
    const { process: info, data: text } = data as {
      process?: { name?: string; namespace?: string };
      data?: unknown;
    };
    if (typeof info?.name !== 'string' || typeof text !== 'string') return;
    if (info.namespace !== undefined && info.namespace !== this.namespace) return;
    const kept = this.lines.get(info.name) ?? [];
    for (const line of text.split('\n')) if (line.trim() !== '') kept.push(line.trimEnd());
    this.lines.set(info.name, kept.slice(-KEPT_LINES));
  }

  /** The last `count` lines `name` wrote to stderr since the capture opened. */
  of(name: string, count: number): string[] {
    return (this.lines.get(name) ?? []).slice(-count);
  }

  close(): void {
    this.subscription?.close();
  }
}
