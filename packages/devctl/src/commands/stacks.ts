// `devctl stacks [prune]`: every stack on this machine -- one per checkout, each with its own
// namespace and ports (src/stacks/) -- and `prune`, which forgets the checkouts that are gone.
import { findProjectRoot } from '../ecosystem/index';
import { usageError } from '../errors';
import { c } from '../output/colors';
import { renderTable } from '../output/table';
import {
  collectStacks,
  type PruneResult,
  pruneStacks,
  type StackListing,
  type StacksReport,
} from '../stacks/index';

export interface StacksOptions {
  /** `prune`, or undefined to list. */
  action: string | undefined;
  json: boolean;
}

/** The checkout devctl runs in, if it runs in one (a listing works anywhere). */
function currentRoot(): string | undefined {
  try {
    return findProjectRoot();
  } catch {
    return undefined;
  }
}

/** `3000-3006` when the ports follow each other, else the list. */
function portRange(ports: number[]): string {
  if (ports.length === 0) return '-';
  const sorted = [...ports].sort((a, b) => a - b);
  const consecutive = sorted.every((port, i) => i === 0 || port === (sorted[i - 1] as number) + 1);
  return consecutive && sorted.length > 1 ? `${sorted[0]}-${sorted.at(-1)}` : sorted.join(',');
}

const STATE_COLOR: Record<StackListing['state'], (text: string) => string> = {
  running: c.green,
  'partly running': c.yellow,
  stopped: c.gray,
  'not started': c.gray,
};

export function renderStacks(report: StacksReport): string {
  if (report.stacks.length === 0) {
    return `no stacks on this machine yet (registry ${report.registry}); start this checkout's with: pnpm pm2:start\n`;
  }
  const table = renderTable(report.stacks, [
    { header: '', cell: (s) => (s.current ? '*' : '') },
    { header: 'namespace', cell: (s) => s.namespace },
    { header: 'state', cell: (s) => STATE_COLOR[s.state](s.state) },
    {
      header: 'services',
      cell: (s) => `${s.services.filter((x) => x.status === 'online').length}/${s.services.length}`,
    },
    { header: 'ports', cell: (s) => portRange(Object.values(s.ports)) },
    { header: 'web', cell: (s) => (s.web === null ? '-' : String(s.web)) },
    { header: 'branch', cell: (s) => s.branch ?? '-' },
    {
      header: 'checkout',
      cell: (s) => (s.root === null ? '(unknown)' : s.exists ? s.root : `${s.root} ${c.red('(gone)')}`),
    },
  ]);
  const notes: string[] = [];
  if (!report.daemon.running) notes.push(`the PM2 daemon is not running (PM2_HOME=${report.daemon.pm2Home})`);
  if (report.stacks.some((s) => !s.exists && s.root !== null)) {
    notes.push('forget the stacks whose checkout is gone with: devctl stacks prune');
  }
  const current = report.stacks.find((s) => s.current);
  if (current?.gatewayUrl)
    notes.push(`this checkout (*): gateway ${current.gatewayUrl}, web http://127.0.0.1:${current.web}`);
  return `${table}${notes.map((n) => `${c.gray(n)}\n`).join('')}`;
}

function renderPrune(result: PruneResult): string {
  if (result.removed.length === 0)
    return `nothing to prune: every registered checkout exists (${result.kept})\n`;
  return result.removed
    .map(
      (r) =>
        `removed ${r.namespace} (${r.root}, gone)${r.deleted.length > 0 ? `; deleted from PM2: ${r.deleted.join(', ')}` : ''}\n`,
    )
    .join('');
}

export async function runStacks(options: StacksOptions): Promise<void> {
  if (options.action !== undefined && options.action !== 'prune') {
    throw usageError(`unknown action "${options.action}" for devctl stacks (prune, or nothing to list)`);
  }
  if (options.action === 'prune') {
    const result = await pruneStacks();
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : renderPrune(result));
    return;
  }
  const report = await collectStacks({ currentRoot: currentRoot() });
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : renderStacks(report));
}
