// `devctl status`: one line per backend of this project's namespace, with a live /health probe.
// A stopped daemon is not an error for a listing: it prints one line saying so and how to start,
// and exits 0 (the JSON says `daemon.running: false`). The model is the status domain's
// (src/status/), the same the MCP tool and the dashboard serve; this file only renders it.

import { loadEcosystem } from '../ecosystem/index';
import { collectStatus, renderStatus } from '../status/index';

export interface StatusOptions {
  names: string[];
  json: boolean;
}

export async function runStatus(options: StatusOptions): Promise<void> {
  const ecosystem = loadEcosystem();
  const report = await collectStatus(ecosystem, options.names);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : renderStatus(report));
}
