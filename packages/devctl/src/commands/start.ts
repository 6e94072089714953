// `devctl start [names...]`: builds, then brings the services up under PM2 in dependency order
// (src/lifecycle/start.ts). A held port is reported with its holder; running services are left
// alone; stopped, errored or crash-looping ones start fresh on the code and configuration on disk.

import { loadEcosystem } from '../ecosystem/index';
import { startServices } from '../lifecycle/index';
import { finishReport, Reporter } from './_lifecycle-render';

export interface StartOptions {
  names: string[];
  /** Wait until every started service answers /health (exit 1 naming those that do not). */
  wait: boolean;
  /** Build the services first (turbo), so PM2 runs the code on disk. */
  build: boolean;
  /** How long --wait (and a dependency) may take per service, in seconds (default 30). */
  timeoutSeconds?: number;
  json: boolean;
}

export async function runStart(options: StartOptions): Promise<void> {
  const names = loadEcosystem().services.map((s) => s.name);
  const outcome = await startServices(options, new Reporter(options.json, names));
  finishReport('start', outcome.results, options.json, {
    namespace: outcome.namespace,
    ...(outcome.stack ? { stack: outcome.stack } : {}),
  });
}
