// Every stack on this machine: one per checkout (a clone or a git worktree), each with its own PM2
// namespace and block of ports (docs/side-by-side.md). Read from the registry that stackIdentity
// keeps and from PM2, so a stack PM2 runs but no registry knows (started before the registry, or
// with a hand-written ecosystem) is listed too. One function serves `devctl stacks`, its --json and
// the MCP tool; `prune` removes the entries of checkouts that are gone, stopping what still runs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  ECOSYSTEM_FILE,
  readEcosystem,
  readRegistry,
  registryPath,
  removeStacks,
  type StackEntry,
} from '@repo/stack-contract';
import type { Ecosystem } from '../ecosystem/index';
import { CLIError, usageError } from '../errors';
import {
  deleteProcess,
  listProcesses,
  type ProcessInfo,
  pm2Home,
  processList,
  withDaemon,
} from '../pm2/index';
import { isRunningState, type ServiceState, serviceState } from '../pm2/state';

/** One service of a stack as PM2 runs it. */
export interface StackService {
  name: string;
  /** devctl's state word (online, stopped, crash-loop...), `not started` when PM2 has no such app. */
  status: ServiceState;
  pid: number | null;
  port: number | null;
}

/** One stack in `devctl stacks --json` (documented in the README). */
export interface StackListing {
  /** The checkout's folder; null for a namespace PM2 runs whose checkout devctl cannot tell. */
  root: string | null;
  /** False when the checkout's folder is gone (prune removes it). */
  exists: boolean;
  /** True for the checkout devctl runs in. */
  current: boolean;
  /** The checked-out branch (or `detached <sha>`), null when unknown. */
  branch: string | null;
  namespace: string;
  /** The block of ports (null when the registry does not know the stack). */
  block: number | null;
  /** Why this block was chosen. */
  reason: string | null;
  /** Every service's port (from the checkout's ecosystem), and the frontend's. */
  ports: Record<string, number>;
  web: number | null;
  /** The gateway's base URL, where the frontend's /api and every README curl go. */
  gatewayUrl: string | null;
  /** `running` (every service online), `partly running`, `stopped` (PM2 knows it, nothing runs), `not started`. */
  state: 'running' | 'partly running' | 'stopped' | 'not started';
  services: StackService[];
  /** In the registry (false: only PM2 knows it). */
  registered: boolean;
}

export interface StacksReport {
  registry: string;
  daemon: { running: boolean; pm2Home: string };
  stacks: StackListing[];
}

/** The branch checked out in `root` (a worktree's .git is a file naming its git dir), read without git. */
export function branchOf(root: string): string | null {
  try {
    let gitDir = join(root, '.git');
    if (statSync(gitDir).isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(gitDir, 'utf8'))?.[1]?.trim();
      if (!pointer) return null;
      gitDir = resolve(root, pointer);
    }
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    const ref = /^ref: refs\/heads\/(.+)$/.exec(head)?.[1];
    return ref ?? `detached ${head.slice(0, 10)}`;
  } catch {
    return null;
  }
}

/** The folder holding ecosystem.config.js at or above `dir` (a PM2 app's cwd is services/<x>). */
function checkoutOf(dir: string | undefined): string | undefined {
  let current = dir ? resolve(dir) : undefined;
  while (current) {
    if (existsSync(join(current, ECOSYSTEM_FILE))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return undefined;
}

/** Ports of the checkout's services and web, from its own ecosystem (which knows its block). */
function portsOf(root: string): { ports: Record<string, number>; web: number | null } {
  try {
    const ecosystem = readEcosystem(root);
    const ports: Record<string, number> = {};
    for (const service of ecosystem.services)
      if (service.port !== undefined) ports[service.name] = service.port;
    return { ports, web: ecosystem.stack?.web ?? null };
  } catch {
    return { ports: {}, web: null };
  }
}

function stateOf(services: StackService[], known: boolean): StackListing['state'] {
  if (!known || services.length === 0) return 'not started';
  const running = services.filter((s) => isRunningState(s.status)).length;
  if (running === 0) return 'stopped';
  return running === services.length ? 'running' : 'partly running';
}

function listing(
  root: string | null,
  namespace: string,
  entry: StackEntry | undefined,
  processes: ProcessInfo[],
  currentRoot: string | undefined,
): StackListing {
  const exists = root !== null && existsSync(root);
  // Only a registered checkout's ecosystem is read: reading another would claim it a block.
  const { ports, web } = exists && root && entry ? portsOf(root) : { ports: {}, web: null };
  const own = processes.filter((p) => p.namespace === namespace);
  const names = [...new Set([...Object.keys(ports), ...own.map((p) => p.name)])];
  const services: StackService[] = names.map((name) => {
    const info = own.find((p) => p.name === name);
    return {
      name,
      status: info ? serviceState(info) : 'not started',
      pid: info?.pid || null,
      port: ports[name] ?? null,
    };
  });
  const gatewayPort = ports['api-gateway'];
  return {
    root,
    exists,
    current: root !== null && root === currentRoot,
    branch: exists && root ? branchOf(root) : null,
    namespace,
    block: entry?.block ?? null,
    reason: entry?.reason ?? null,
    ports,
    web,
    gatewayUrl: gatewayPort === undefined ? null : `http://127.0.0.1:${gatewayPort}`,
    state: stateOf(services, own.length > 0),
    services,
    registered: entry !== undefined,
  };
}

/** Every stack: the registry's, then the namespaces PM2 runs that no entry names. */
export async function collectStacks(options: { currentRoot?: string } = {}): Promise<StacksReport> {
  const entries = readRegistry();
  const processes = (await listProcesses()) ?? null;
  const running = processes ?? [];
  const stacks = entries.map((entry) =>
    listing(entry.root, entry.namespace, entry, running, options.currentRoot),
  );
  const known = new Set(entries.map((e) => e.namespace));
  for (const namespace of [...new Set(running.map((p) => p.namespace))]) {
    if (known.has(namespace)) continue;
    const root = checkoutOf(running.find((p) => p.namespace === namespace && p.cwd)?.cwd) ?? null;
    stacks.push(listing(root, namespace, undefined, running, options.currentRoot));
  }
  return { registry: registryPath(), daemon: { running: processes !== null, pm2Home: pm2Home() }, stacks };
}

export interface PruneResult {
  removed: { root: string; namespace: string; deleted: string[] }[];
  kept: number;
}

/** Removes the registry entries of checkouts that are gone, deleting from PM2 what still runs for them. */
export async function pruneStacks(): Promise<PruneResult> {
  const entries = readRegistry();
  const gone = entries.filter((entry) => !existsSync(entry.root));
  const deleted = new Map<string, string[]>();
  if (gone.length > 0) {
    await withDaemon(async (connection) => {
      const all = await processList(connection, {});
      for (const entry of gone) {
        const names: string[] = [];
        for (const info of all.filter((p) => p.namespace === entry.namespace)) {
          await deleteProcess(connection, info.pmId);
          names.push(info.name);
        }
        deleted.set(entry.root, names);
      }
    });
  }
  const removed = removeStacks(gone.map((entry) => entry.root));
  return {
    removed: removed.map((entry) => ({
      root: entry.root,
      namespace: entry.namespace,
      deleted: deleted.get(entry.root) ?? [],
    })),
    kept: entries.length - removed.length,
  };
}

/**
 * The checkout `--stack <path|name>` names: a folder holding ecosystem.config.js, or a registered
 * stack by namespace or by its folder's name. A name that matches none, or several, is a usage error.
 */
export function resolveStackRoot(value: string): string {
  const asPath = resolve(value);
  if (existsSync(join(asPath, ECOSYSTEM_FILE))) return asPath;
  const entries = readRegistry();
  const matches = entries.filter(
    (entry) => entry.namespace === value || entry.root.split('/').pop() === value || entry.root === value,
  );
  if (matches.length === 1) {
    const root = (matches[0] as StackEntry).root;
    if (!existsSync(join(root, ECOSYSTEM_FILE))) {
      throw new CLIError(
        `the stack ${value} names ${root}, which no longer exists; remove it with: devctl stacks prune`,
      );
    }
    return root;
  }
  const known = entries.map((entry) => `${entry.namespace} (${entry.root})`).join(', ') || 'none';
  if (matches.length > 1) {
    throw usageError(
      `--stack ${value} matches ${matches.length} stacks; give the path or the namespace (stacks: ${known})`,
    );
  }
  throw usageError(
    `--stack ${value} is neither a checkout (no ${ECOSYSTEM_FILE} there) nor a known stack (stacks: ${known}); list them with: devctl stacks`,
  );
}

/** The one line `start` prints: which block this stack uses and why. Undefined without a stack identity. */
export function stackLine(ecosystem: Ecosystem): string | undefined {
  const stack = ecosystem.stack;
  if (!stack) return undefined;
  const ports = ecosystem.services
    .flatMap((s) => (s.port === undefined ? [] : [s.port]))
    .sort((a, b) => a - b);
  const range =
    ports.length > 1 && ports.every((p, i) => i === 0 || p === (ports[i - 1] as number) + 1)
      ? `${ports[0]}-${ports.at(-1)}`
      : ports.join(', ');
  return `stack ${stack.namespace}: ports ${range}, web ${stack.web} (block ${stack.block}: ${stack.reason || 'kept'})`;
}

/**
 * This stack's ports that another checkout's stack (registered, its folder still there) also uses:
 * a hand-set port in one of them would make the two stacks call each other's services.
 */
export function stackClashes(ecosystem: Ecosystem): string[] {
  const here = ecosystem.stack?.root ?? ecosystem.root;
  const clashes: string[] = [];
  for (const entry of readRegistry()) {
    if (entry.root === here || !existsSync(join(entry.root, ECOSYSTEM_FILE))) continue;
    const theirs = portsOf(entry.root);
    const byPort = new Map(Object.entries(theirs.ports).map(([name, port]) => [port, name]));
    if (theirs.web !== null) byPort.set(theirs.web, 'web');
    for (const service of ecosystem.services) {
      const other = service.port === undefined ? undefined : byPort.get(service.port);
      if (other) {
        clashes.push(
          `${service.name}'s port ${service.port} is ${other}'s in the stack ${entry.namespace} (${entry.root})`,
        );
      }
    }
  }
  return clashes;
}
