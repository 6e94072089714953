// One shared, rate-limited view of PM2's process list for commands that watch services change
// (so fifty services waiting do not mean fifty list calls per tick). The health wait and port
// clearing, which are not PM2's, live in src/lifecycle/.
import type { ErrorOutput } from './error-output';
import { processList } from './index';
import type { DaemonConnection } from './rpc';
import type { ProcessInfo } from './types';

export type { ServiceFailure, ServiceResult } from '../lifecycle/outcome';

/** The daemon's process list of one namespace, fetched at most every `maxAgeMs`. */
export class ProcessWatcher {
  private snapshot: { at: number; list: ProcessInfo[] } | undefined;
  private pending: Promise<ProcessInfo[]> | undefined;
  /** What the watched services write to stderr meanwhile, from PM2's bus (set by start and restart). */
  errorOutput: ErrorOutput | undefined;

  constructor(
    private readonly connection: DaemonConnection,
    readonly namespace: string,
  ) {}

  async list(maxAgeMs = 200): Promise<ProcessInfo[]> {
    if (this.snapshot && Date.now() - this.snapshot.at <= maxAgeMs) return this.snapshot.list;
    this.pending ??= processList(this.connection, { namespace: this.namespace }).then(
      (list) => {
        this.snapshot = { at: Date.now(), list };
        this.pending = undefined;
        return list;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  async find(name: string, maxAgeMs = 200): Promise<ProcessInfo | undefined> {
    return (await this.list(maxAgeMs)).find((p) => p.name === name);
  }

  /** Forget the cached list (after an action changed it). */
  invalidate(): void {
    this.snapshot = undefined;
  }
}
