// Shared by the scaffold and init tests: the real devctl bin run as a user runs it, and a project
// made from this repository (by `devctl init`) in a temporary folder, on ports of its own.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinStack } from '@repo/stack-contract';
import { freePorts, type TempDir, tempDir } from '@repo/test-utils';
import { parseServiceLines } from '../src/scaffold/ecosystem-text';
import { handWrittenApiSegments, parseGeneratedRoutes, REGISTRY_FILE } from '../src/scaffold/gateway-text';
import { SAMPLE_SERVICE_FOLDERS } from '../src/scaffold/samples';
import { devctlBin, type RunResult, runCommand, stackRegistryEnv } from './fixtures/harness';

export { devctlBin, type RunResult };

/** The repository these tests run in: the template that `devctl init` copies. */
export const templateRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Runs a command with a minimal environment (PATH, HOME, no colours, plus `env`); kills it and its
 * children by pid after `timeoutMs`. Never rejects: the exit code and output are the result.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number; input?: string },
): Promise<RunResult> {
  // E2E_CPU_CG=/sys/fs/cgroup/cpuacct/<prefix> (cgroup v1, root): each command runs in a cgroup of
  // its own, <prefix>-<start ms>-<command>, so its CPU and that of everything it starts (a PM2
  // daemon and its services included) can be read from cpuacct.usage after the run: where an
  // end-to-end file's CPU goes, step by step (`pnpm test` is CPU-bound). Unset: nothing changes.
  const cgroupPrefix = process.env.E2E_CPU_CG;
  if (cgroupPrefix) {
    const label = [basename(command), ...args.slice(0, 3), basename(options.cwd)].join('_');
    const cgroup = `${cgroupPrefix}-${Date.now()}-${label.replace(/[^\w.:-]/g, '')}`.slice(0, 200);
    mkdirSync(cgroup, { recursive: true });
    args = ['-c', `echo $$ > ${cgroup}/cgroup.procs; exec "$0" "$@"`, command, ...args];
    command = 'bash';
  }
  return runCommand(command, args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      // The test's own stack registry (vitest.shared.ts): loading an ecosystem claims a block.
      ...stackRegistryEnv(),
      ...options.env,
    },
    timeoutMs: options.timeoutMs ?? 60_000,
    input: options.input,
  });
}

let emptyPm2Home: TempDir | undefined;
/** A PM2_HOME where no daemon runs: devctl never looks at the developer's ~/.pm2 from a test. */
function noDaemonHome(): string {
  if (!emptyPm2Home) {
    emptyPm2Home = tempDir('pm2-no-daemon-');
    process.once('exit', () => emptyPm2Home?.cleanup());
  }
  return emptyPm2Home.path;
}

/**
 * `devctl <args>` with the bin of `bin` (default: this package's), from `cwd`; PM2_HOME is one where
 * no daemon runs unless `env` gives one.
 */
export const devctl = (
  cwd: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; bin?: string; input?: string } = {},
) =>
  run(process.execPath, [options.bin ?? devctlBin, ...args], {
    cwd,
    timeoutMs: options.timeoutMs,
    input: options.input,
    env: { PM2_HOME: noDaemonHome(), ...options.env },
  });

/** What a failed step printed, for an assertion message. */
export const said = (result: RunResult) =>
  `exit ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`;

export interface Project {
  root: string;
  cleanup(): void;
}

/**
 * A git identity, as a user who set up git has one: init commits the copy with it, whatever the
 * machine's own git configuration (a fresh CI machine has none).
 */
export const gitIdentity = {
  GIT_AUTHOR_NAME: 'Scaffold Test',
  GIT_AUTHOR_EMAIL: 'scaffold-test@example.test',
  GIT_COMMITTER_NAME: 'Scaffold Test',
  GIT_COMMITTER_EMAIL: 'scaffold-test@example.test',
};

/** A new project made from this repository by `devctl init <tmp>/<name> [...flags]`; throws with its output if it fails. */
export async function initProject(name: string, flags: string[] = []): Promise<Project> {
  const parent = tempDir(`devctl-${name}-`);
  const root = join(parent.path, name);
  const result = await devctl(templateRoot, ['init', root, ...flags], {
    timeoutMs: 120_000,
    env: gitIdentity,
  });
  if (result.code !== 0) {
    parent.cleanup();
    throw new Error(`devctl init failed: ${said(result)}`);
  }
  return { root, cleanup: parent.cleanup };
}

/**
 * Moves every ecosystem entry of the project to a free port (text edit of the `service(...)`
 * lines), so nothing it starts touches the stack's fixed ports (3000-3006) that a developer may be
 * using. Returns the new port of each PM2 name.
 */
export async function moveToFreePorts(root: string): Promise<Record<string, number>> {
  const file = join(root, 'ecosystem.config.js');
  const text = readFileSync(file, 'utf8');
  const calls = [...text.matchAll(/service\('([^']+)', '[^']+', (\d+)/g)];
  const ports = await freePorts(calls.length);
  const moved: Record<string, number> = {};
  let index = 0;
  writeFileSync(
    file,
    text.replace(/(service\('([^']+)', '[^']+', )(\d+)/g, (_match, head: string, name: string) => {
      const port = ports[index++] as number;
      moved[name] = port;
      return `${head}${port}`;
    }),
  );
  // The ports written are the ones to use: the project's stack is pinned to block 0 (no shift) in
  // the test's registry, whatever block a copy of the repository would otherwise claim.
  const namespace = /const NAMESPACE = '([^']+)'/.exec(text)?.[1] ?? 'default';
  pinStack(root, { namespace, block: 0 });
  return moved;
}

/**
 * `pnpm install` in the project, from the warm store (no network unless something is missing). Not
 * frozen: a new service is a new importer in pnpm-lock.yaml.
 */
export async function install(root: string): Promise<void> {
  const result = await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], {
    cwd: root,
    timeoutMs: 240_000,
  });
  if (result.code !== 0) throw new Error(`pnpm install failed in ${root}: ${said(result)}`);
}

const ecosystemLines = (root: string) =>
  parseServiceLines(readFileSync(join(root, 'ecosystem.config.js'), 'utf8'));
const registryOf = (root: string) =>
  existsSync(join(root, REGISTRY_FILE))
    ? parseGeneratedRoutes(readFileSync(join(root, REGISTRY_FILE), 'utf8'))
    : [];

/**
 * `base`, else `base2`, `base3`...: the first service name the project at `root` does not have yet
 * (no services/<name> folder, no <name>-service in its ecosystem, no /api/<name> route, generated or
 * hand-written), leaving out `avoid`. The template these tests copy is whatever checkout they run
 * in, and its user may already have made a `billing`: a test that creates a service picks its name
 * here, so it checks the same things in every checkout.
 */
export function unusedServiceName(root: string, base: string, avoid: readonly string[] = []): string {
  const lines = ecosystemLines(root);
  const routes = registryOf(root);
  const handWritten = handWrittenApiSegments(root);
  const taken = (name: string) =>
    avoid.includes(name) ||
    existsSync(join(root, 'services', name)) ||
    lines.some((line) => line.folder === name || line.name === `${name}-service`) ||
    routes.some((route) => route.service === `${name}-service` || route.prefix === `/api/${name}`) ||
    handWritten.has(name);
  let name = base;
  for (let n = 2; taken(name); n++) name = `${base}${n}`;
  return name;
}

/** `preferred`, or the first port below it, that no service of the project's ecosystem or registry uses. */
export function unusedServicePort(root: string, preferred: number): number {
  const used = new Set([...ecosystemLines(root).map((l) => l.port), ...registryOf(root).map((r) => r.port)]);
  let port = preferred;
  while (used.has(port)) port--;
  return port;
}

/**
 * The PM2 names `devctl init --no-samples` of `root` keeps, in ecosystem order: api-gateway and every
 * service that is no sample and needs none, directly or through another service.
 */
export function servicesKeptWithoutSamples(root: string): string[] {
  const lines = ecosystemLines(root);
  const gone = new Set(lines.filter((l) => SAMPLE_SERVICE_FOLDERS.includes(l.folder)).map((l) => l.name));
  let before = -1;
  while (gone.size !== before) {
    before = gone.size;
    for (const line of lines)
      if (line.folder !== 'api-gateway' && line.dependsOn.some((d) => gone.has(d))) gone.add(line.name);
  }
  return lines.filter((l) => !gone.has(l.name)).map((l) => l.name);
}

/** unusedServiceName for each of `bases`, all different from each other and from `avoid`. */
export function unusedServiceNames<const T extends readonly string[]>(
  root: string,
  bases: T,
  avoid: readonly string[] = [],
): { [K in keyof T]: string } {
  const names: string[] = [];
  for (const base of bases) names.push(unusedServiceName(root, base, [...avoid, ...names]));
  return names as { [K in keyof T]: string };
}
