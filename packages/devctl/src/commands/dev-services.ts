// `devctl dev --services`: every backend run from its TypeScript source with reload on save
// (`tsx watch`), side by side through concurrently, with the same environment and ports as under PM2.
// For editing backend code; `pnpm pm2:start` is the way to run them otherwise.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { concurrently } from 'concurrently';
import { type Ecosystem, loadEcosystem, type ServiceEntry } from '../ecosystem/index';
import { CLIError } from '../errors';
import { colorsEnabled } from '../output/colors';
import { listProcesses, type ProcessInfo } from '../pm2/index';
import { describeHolder, type PortHolder, portHolder } from '../ports/holders';

export interface DevServicesOptions {
  /** Overrides for tests; by default the project found from the current folder. */
  root?: string;
}

/** The arguments after `tsx`: reload on save, workspace packages from their TypeScript source. */
export const TSX_WATCH_ARGS = ['watch', '--clear-screen=false', '--conditions=source', 'src/index.ts'];

const PREFIX_COLORS = ['cyan', 'green', 'yellow', 'blue', 'magenta', 'red', 'white', 'gray'];

/** PM2 states in which the app holds (or is about to hold) its port. */
const RUNNING = new Set(['online', 'launching', 'stopping', 'waiting restart']);

export interface Conflict {
  service: string;
  /** Set when PM2 runs this service. */
  pm2?: ProcessInfo;
  /** Set when something listens on the service's port. */
  holder?: PortHolder;
}

/** What stands in the way of running each service here: PM2 running it, or its port being taken. */
export async function findConflicts(ecosystem: Ecosystem): Promise<Conflict[]> {
  const pm2 = (await listProcesses({ namespace: ecosystem.namespace })) ?? [];
  const conflicts: Conflict[] = [];
  for (const service of ecosystem.services) {
    const managed = pm2.find((p) => p.name === service.name && RUNNING.has(p.status));
    const holder = service.port === undefined ? undefined : portHolder(service.port, ecosystem.root);
    if (managed || holder) conflicts.push({ service: service.name, pm2: managed, holder });
  }
  return conflicts;
}

/** The refusal: one line per blocked service, then the command that clears the way. */
export function conflictMessage(conflicts: Conflict[], ecosystem: Ecosystem): string {
  const lines = conflicts.map(({ service, pm2, holder }) => {
    const port = ecosystem.services.find((s) => s.name === service)?.port;
    const parts: string[] = [];
    if (pm2) parts.push(`PM2 runs it (${pm2.status}${pm2.pid ? `, pid ${pm2.pid}` : ''})`);
    if (holder) parts.push(describeHolder(holder));
    return `  ${service}${port ? ` (port ${port})` : ''}: ${parts.join('; ')}`;
  });
  const byPm2 = conflicts.some((c) => c.pm2 || c.holder?.underPm2);
  const others = conflicts
    .map((c) => c.holder)
    .filter((h): h is PortHolder => Boolean(h && !h.underPm2 && h.pid !== undefined))
    .map((h) => h.pid);
  const next: string[] = [];
  if (byPm2) next.push('stop the PM2 processes with: pnpm pm2:stop');
  if (others.length > 0) next.push(`stop the other holders with: kill ${[...new Set(others)].join(' ')}`);
  if (next.length === 0) next.push('free the ports above');
  return [
    `cannot run the backends in watch mode: ${conflicts.length} of ${ecosystem.services.length} would clash with what already runs`,
    ...lines,
    `Next: ${next.join('; ')}; then run pnpm dev:services again.`,
  ].join('\n');
}

/**
 * The folders whose node_modules/.bin may hold a service's tsx: its own devDependency first, then
 * the project root's. Checked up front, so a missing tsx is one clear error, not seven shell ones.
 */
export function tsxBinDirs(service: ServiceEntry, root: string): string[] {
  const dirs = [join(service.cwd, 'node_modules', '.bin'), join(root, 'node_modules', '.bin')];
  const found = dirs.filter((dir) => existsSync(join(dir, 'tsx')));
  if (found.length === 0) {
    throw new CLIError(
      `tsx is not installed for ${service.name} (${service.folder}); add it with: pnpm --filter ./${service.folder} add -D tsx`,
    );
  }
  return found;
}

/** What concurrently runs for one service: the command a person would type in its folder. */
export const WATCH_COMMAND = `tsx ${TSX_WATCH_ARGS.join(' ')}`;

export async function runDevServices(options: DevServicesOptions = {}): Promise<void> {
  const ecosystem = loadEcosystem(options.root);
  if (ecosystem.services.length === 0) throw new CLIError(`${ecosystem.file} declares no services`);

  const conflicts = await findConflicts(ecosystem);
  if (conflicts.length > 0) throw new CLIError(conflictMessage(conflicts, ecosystem));

  const commands = ecosystem.services.map((service, index) => ({
    name: service.name,
    command: WATCH_COMMAND,
    cwd: service.cwd,
    env: {
      PATH: [...tsxBinDirs(service, ecosystem.root), process.env.PATH].filter(Boolean).join(delimiter),
      // The ecosystem's env, as PM2 would give it (it wins over the shell's), logs for people.
      ...service.env,
      LOG_FORMAT: 'pretty',
    },
    prefixColor: PREFIX_COLORS[index % PREFIX_COLORS.length],
  }));

  const width = Math.max(...commands.map((command) => command.name.length));
  const { result } = concurrently(commands, {
    prefix: 'name',
    padPrefix: true,
    prefixLength: width,
    prefixColors: colorsEnabled() ? PREFIX_COLORS : false,
    // One crashing service must not take the others down: tsx watch waits for the fix and reruns.
    killOthersOn: [],
    restartTries: 0,
  });

  let stoppedBySignal = false;
  const note = () => {
    stoppedBySignal = true;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  // concurrently forwards these signals to every command; we only remember that it was asked.
  for (const signal of signals) process.on(signal, note);
  try {
    await result;
  } catch (events) {
    if (stoppedBySignal) return;
    const failed = (Array.isArray(events) ? events : [])
      .filter((event: { exitCode: number | string }) => event.exitCode !== 0)
      .map(
        (event: { command: { name: string }; exitCode: number | string }) =>
          `${event.command.name} (exit ${event.exitCode})`,
      );
    throw new CLIError(
      `the watch processes ended: ${failed.join(', ') || 'unknown'}; their output is above. Run again with: pnpm dev:services`,
    );
  } finally {
    for (const signal of signals) process.off(signal, note);
  }
}
