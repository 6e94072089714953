// devctl's command surface: this file only declares commands and options. Each command lives in
// src/commands/<name>.ts and is loaded when run, so `devctl --help` stays fast.

import { type ArgsDef, type CommandDef, defineCommand, parseArgs, renderUsage } from 'citty';
import { closest } from 'fastest-levenshtein';
import { EXIT_USAGE, reportError, usageError } from './errors';
import { colorsEnabled, disableColors } from './output/colors';
import { DEVCTL_VERSION } from './version';

const json = { type: 'boolean', description: 'machine-readable output (one documented shape)' } as const;
const verbose = { type: 'boolean', description: 'print stack traces of devctl errors' } as const;
const names = {
  type: 'positional',
  required: false,
  description: 'service names (PM2 names) or `all`',
} as const;
const wait = { type: 'boolean', description: 'wait until every service answers /health' } as const;
const build = {
  type: 'boolean',
  default: true,
  description: 'build the services first (--no-build to skip)',
} as const;
const timeout = { type: 'string', description: 'how long --wait waits, in seconds (default 30)' } as const;

/** The positional words after the command name (citty keeps them in `_`). */
const positionals = (args: { _: string[] }) => args._.filter((a) => a !== undefined);

/** A leaf command: its options object is built from the parsed arguments by `toOptions`. */
export interface LeafCommand<O = unknown> extends CommandDef {
  toOptions: (args: Parsed) => O;
  execute: (options: O) => Promise<unknown>;
}

type Parsed = Record<string, unknown> & { _: string[] };

function command<O>(
  meta: { name: string; description: string },
  args: ArgsDef,
  toOptions: (args: Parsed) => O,
  execute: (options: O) => Promise<unknown>,
): LeafCommand<O> {
  const def = defineCommand({
    meta,
    args: { ...args, verbose },
    run: async ({ args: parsed }) => {
      await execute(toOptions(parsed as Parsed));
    },
  }) as unknown as LeafCommand<O>;
  def.toOptions = toOptions;
  def.execute = execute;
  return def;
}

/** A positive number of seconds (or undefined when the option is absent); exit 2 otherwise. */
function seconds(option: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw usageError(`${option} must be a positive number of seconds, not "${String(value)}"`);
  }
  return number;
}

function portNumber(option: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 65535) {
    throw usageError(`${option} must be a port number (1-65535), not "${String(value)}"`);
  }
  return number;
}

/** --auth of `new service`: only with --route, bearer unless said otherwise (a new route is closed by default). */
function routeAuth(value: unknown, route: unknown): 'bearer' | 'public' {
  if (value === undefined || value === '') return 'bearer';
  if (route === undefined || route === '') {
    throw usageError('--auth applies to a gateway route: give --route /api/<name> with it, or leave it out');
  }
  if (value === 'bearer' || value === 'public') return value;
  throw usageError(`--auth must be bearer or public, not "${String(value)}"`);
}

function graphFormat(value: unknown): 'text' | 'mermaid' {
  if (value === undefined || value === '' || value === 'text') return 'text';
  if (value === 'mermaid') return 'mermaid';
  throw usageError(`--format must be text or mermaid, not "${String(value)}" (for JSON: --json)`);
}

export const main = defineCommand({
  meta: {
    name: 'devctl',
    version: DEVCTL_VERSION,
    description:
      "Run the backends under PM2, the frontend with hot reload, and debug them from the terminal. Every command acts on this checkout's stack; --stack <path|name> reaches another (see: devctl stacks)",
  },
  subCommands: {
    start: command(
      { name: 'start', description: 'start backends under PM2 in dependency order (all when no name)' },
      { names, wait, build, timeout, json },
      (a) => ({
        names: positionals(a),
        wait: Boolean(a.wait),
        build: a.build !== false,
        timeoutSeconds: seconds('--timeout', a.timeout),
        json: Boolean(a.json),
      }),
      async (o) => (await import('./commands/start')).runStart(o),
    ),
    stop: command(
      { name: 'stop', description: 'stop backends (all of this project when no name)' },
      { names, json },
      (a) => ({ names: positionals(a), json: Boolean(a.json) }),
      async (o) => (await import('./commands/lifecycle')).runStop(o),
    ),
    restart: command(
      { name: 'restart', description: 'restart backends with fresh .env and code; --wait verifies them' },
      { names, wait, build, timeout, json },
      (a) => ({
        names: positionals(a),
        wait: Boolean(a.wait),
        build: a.build !== false,
        timeoutSeconds: seconds('--timeout', a.timeout),
        json: Boolean(a.json),
      }),
      async (o) => (await import('./commands/lifecycle')).runRestart(o),
    ),
    delete: command(
      { name: 'delete', description: 'stop backends and remove them from PM2' },
      { names, json },
      (a) => ({ names: positionals(a), json: Boolean(a.json) }),
      async (o) => (await import('./commands/lifecycle')).runDelete(o),
    ),
    status: command(
      {
        name: 'status',
        description: 'one line per backend: status, pid, port, health, cpu, memory, restarts',
      },
      { names, json },
      (a) => ({ names: positionals(a), json: Boolean(a.json) }),
      async (o) => (await import('./commands/status')).runStatus(o),
    ),
    logs: command(
      { name: 'logs', description: 'print the last lines of the logs and exit (follow only with -f)' },
      {
        name: { type: 'positional', required: false, description: 'a service (all when omitted)' },
        lines: { type: 'string', alias: 'n', description: 'how many lines (default 100)' },
        follow: { type: 'boolean', alias: 'f', description: 'keep printing new lines' },
        err: { type: 'boolean', description: 'error.log only' },
        out: { type: 'boolean', description: 'out.log only' },
        since: { type: 'string', description: 'only lines since 10m, 2h, 1d or an ISO time' },
        grep: { type: 'string', description: 'only lines matching this regular expression' },
        raw: { type: 'boolean', description: 'print lines as written, without rendering JSON logs' },
        json,
      },
      (a) => ({
        names: positionals(a),
        lines: a.lines === undefined ? undefined : String(a.lines),
        follow: Boolean(a.follow),
        err: Boolean(a.err),
        out: Boolean(a.out),
        since: a.since as string | undefined,
        grep: a.grep as string | undefined,
        raw: Boolean(a.raw),
        json: Boolean(a.json),
      }),
      async (o) => (await import('./commands/logs')).runLogs(o),
    ),
    trace: command(
      {
        name: 'trace',
        description: "one request's path across the services: each hop, its status and time, the error",
      },
      {
        id: {
          type: 'positional',
          required: false,
          description: 'the request id (x-request-id header of the answer)',
        },
        'last-error': { type: 'boolean', description: 'the most recent failed request' },
        json,
      },
      (a) => ({
        requestId: positionals(a)[0],
        lastError: Boolean(a['last-error']),
        json: Boolean(a.json),
      }),
      async (o) => (await import('./commands/trace')).runTrace(o),
    ),
    graph: command(
      {
        name: 'graph',
        description:
          'who waits on whom, with states, start-up times and the critical chain of the last start',
      },
      { format: { type: 'string', description: 'text (a tree, default) or mermaid' }, json },
      (a) => ({ format: graphFormat(a.format), json: Boolean(a.json) }),
      async (o) => (await import('./commands/graph')).runGraph(o),
    ),
    dashboard: command(
      {
        name: 'dashboard',
        description: 'a local web page of the stack: services live, graph, logs, findings, traces, actions',
      },
      { port: { type: 'string', description: 'listen on this port (default: a free one)' }, json },
      (a) => ({ port: portNumber('--port', a.port), json: Boolean(a.json) }),
      async (o) => (await import('./commands/dashboard')).runDashboard(o),
    ),
    monit: command(
      { name: 'monit', description: 'live view of status, CPU, memory and log tail (q to quit)' },
      { names, interval: { type: 'string', description: 'refresh every N seconds (default 2)' } },
      (a) => ({ names: positionals(a), intervalSeconds: seconds('--interval', a.interval) }),
      async (o) => (await import('./commands/monit')).runMonit(o),
    ),
    env: command(
      {
        name: 'env',
        description: "a service's resolved environment, secrets masked, with each value's source",
      },
      { name: { type: 'positional', required: false, description: 'a service (all when omitted)' }, json },
      (a) => ({ names: positionals(a), json: Boolean(a.json) }),
      async (o) => (await import('./commands/env')).runEnv(o),
    ),
    diagnose: command(
      {
        name: 'diagnose',
        description: 'find what is wrong with the running stack: root cause, evidence, next step',
      },
      {
        names,
        since: {
          type: 'string',
          description:
            'only what happened since 10m, 2h or an ISO time (e.g. since a fix), for every service',
        },
        json,
      },
      (a) => ({ names: positionals(a), since: a.since as string | undefined, json: Boolean(a.json) }),
      async (o) => (await import('./commands/diagnose')).runDiagnose(o),
    ),
    doctor: command(
      { name: 'doctor', description: 'check the machine and the project before starting' },
      { json },
      (a) => ({ json: Boolean(a.json) }),
      async (o) => (await import('./commands/doctor')).runDoctor(o),
    ),
    dev: command(
      {
        name: 'dev',
        description:
          'the frontend with hot reload (not under PM2); --services runs the backends in watch mode',
      },
      { services: { type: 'boolean', description: 'run every backend with tsx watch instead (no PM2)' } },
      (a) => ({ services: Boolean(a.services) }),
      async (o) =>
        o.services
          ? (await import('./commands/dev-services')).runDevServices({})
          : (await import('./commands/dev')).runDev({}),
    ),
    new: defineCommand({
      meta: { name: 'new', description: 'scaffold something new' },
      subCommands: {
        service: command(
          { name: 'service', description: 'create services/<name> from the service kit and register it' },
          {
            name: {
              type: 'positional',
              required: true,
              description: 'folder and package name, e.g. billing',
            },
            port: { type: 'string', description: 'port (default: the next free one)' },
            'depends-on': { type: 'string', description: 'comma-separated PM2 names it needs first' },
            route: { type: 'string', description: 'add a gateway route, e.g. /api/billing' },
            auth: {
              type: 'string',
              description: "the route's access: bearer (the gateway checks the JWT, default) or public",
            },
            json,
          },
          (a) => ({
            name: String(positionals(a)[0] ?? a.name),
            port: portNumber('--port', a.port),
            dependsOn: a['depends-on'] ? String(a['depends-on']).split(',').filter(Boolean) : [],
            route: a.route as string | undefined,
            auth: routeAuth(a.auth, a.route),
            json: Boolean(a.json),
          }),
          async (o) => (await import('./commands/new-service')).runNewService(o),
        ),
      },
    }),
    remove: defineCommand({
      meta: { name: 'remove', description: 'remove something scaffolded' },
      subCommands: {
        service: command(
          { name: 'service', description: 'remove services/<name> and its ecosystem entry' },
          {
            name: { type: 'positional', required: true, description: 'the service folder name' },
            yes: { type: 'boolean', alias: 'y', description: 'do not ask for confirmation' },
          },
          (a) => ({ name: String(positionals(a)[0] ?? a.name), yes: Boolean(a.yes) }),
          async (o) => (await import('./commands/remove-service')).runRemoveService(o),
        ),
      },
    }),
    init: command(
      { name: 'init', description: 'create a new project from this template' },
      {
        dir: { type: 'positional', required: true, description: 'the new project folder' },
        name: { type: 'string', description: 'project name (default: the folder name)' },
        samples: {
          type: 'boolean',
          default: true,
          description: 'keep the sample services (--no-samples drops them)',
        },
      },
      (a) => ({
        dir: String(positionals(a)[0] ?? a.dir),
        name: a.name as string | undefined,
        samples: a.samples !== false,
      }),
      async (o) => (await import('./commands/init')).runInit(o),
    ),
    export: defineCommand({
      meta: { name: 'export', description: 'deployable files from the ecosystem: compose or kubernetes' },
      subCommands: Object.fromEntries(
        (['compose', 'kubernetes'] as const).map((target) => [
          target,
          command(
            {
              name: target,
              description:
                target === 'compose'
                  ? 'write deploy/compose.yaml, deploy/Dockerfile and deploy/.env.example'
                  : 'write the kustomize base and overlay in deploy/k8s/, and deploy/Dockerfile',
            },
            {
              force: { type: 'boolean', description: 'overwrite files edited since the last export' },
              build,
              json,
            },
            (a) => ({ target, force: Boolean(a.force), build: a.build !== false, json: Boolean(a.json) }),
            async (o) => (await import('./commands/export')).runExport(o),
          ),
        ]),
      ),
    }),
    stacks: command(
      {
        name: 'stacks',
        description:
          'every stack on this machine (one per checkout: namespace, ports, branch, state); prune forgets gone checkouts',
      },
      {
        action: {
          type: 'positional',
          required: false,
          description: 'prune: remove the stacks whose checkout is gone',
        },
        json,
      },
      (a) => ({ action: positionals(a)[0], json: Boolean(a.json) }),
      async (o) => (await import('./commands/stacks')).runStacks(o),
    ),
    mcp: command(
      { name: 'mcp', description: 'a Model Context Protocol server over stdio for coding agents' },
      { 'read-only': { type: 'boolean', description: 'only the tools that change nothing' } },
      (a) => ({ readOnly: Boolean(a['read-only']) }),
      async (o) => (await import('./commands/mcp')).runMcp(o),
    ),
  },
});

async function subCommandsOf(cmd: CommandDef): Promise<Record<string, CommandDef>> {
  const sub = typeof cmd.subCommands === 'function' ? await cmd.subCommands() : await cmd.subCommands;
  return (sub ?? {}) as Record<string, CommandDef>;
}

async function argsOf(cmd: CommandDef): Promise<ArgsDef> {
  return ((typeof cmd.args === 'function' ? await cmd.args() : await cmd.args) ?? {}) as ArgsDef;
}

/** Walks the raw arguments down the command tree, rejecting unknown commands and options (exit 2). */
async function resolveCommand(
  rawArgs: string[],
): Promise<{ cmd: CommandDef; path: string[]; rest: string[] }> {
  let cmd: CommandDef = main as CommandDef;
  const path: string[] = [];
  let rest = rawArgs;
  for (;;) {
    const subs = await subCommandsOf(cmd);
    const names = Object.keys(subs);
    if (names.length === 0) break;
    const word = rest.find((a) => !a.startsWith('-'));
    if (word === undefined) break;
    const next = subs[word];
    if (!next) {
      const suggestion = closest(word, names);
      throw usageError(
        `unknown command "${[...path, word].join(' ')}"; did you mean "${[...path, suggestion].join(' ')}"? (commands: ${names.join(', ')})`,
      );
    }
    path.push(word);
    rest = rest.filter((_, i) => i !== rest.indexOf(word));
    cmd = next;
  }
  const args = await argsOf(cmd);
  const known = new Set<string>(['help', 'h']);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === 'positional') continue;
    known.add(name);
    if (def.type === 'boolean') known.add(`no-${name}`);
    const aliases = 'alias' in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) known.add(alias);
  }
  for (const token of rest) {
    if (token === '--') break;
    if (!token.startsWith('-') || /^-\d/.test(token)) continue;
    const flag = token.replace(/^--?/, '').split('=')[0] ?? '';
    const flags = token.startsWith('--') ? [flag] : flag.split('');
    for (const f of flags) {
      if (!known.has(f)) {
        const options = [...known].filter((k) => k.length > 1 && k !== 'help');
        throw usageError(
          `unknown option "${token}" for "devctl ${path.join(' ')}"; did you mean "--${closest(f, options)}"? (run devctl ${path.join(' ')} --help)`,
        );
      }
    }
  }
  return { cmd, path, rest };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC
const ANSI = /\u001b\[[0-9;]*m/g;

/** citty colours its usage text whatever the output; devctl's colour rules apply instead. */
const plain = (text: string) => (colorsEnabled() ? text : text.replace(ANSI, ''));

export interface CommandLine {
  /** The command words, e.g. ['start'] or ['new', 'service']. */
  path: string[];
  /** The options object the command's run function receives. */
  options: unknown;
  command: LeafCommand;
}

/**
 * Parses a command line down to the command and its typed options, without running anything:
 * unknown commands or options, and bad option values, are usage errors (exit 2).
 */
export async function parseCommandLine(rawArgs: string[]): Promise<CommandLine> {
  const { cmd, path, rest } = await resolveCommand(rawArgs);
  const leaf = cmd as Partial<LeafCommand>;
  if (typeof leaf.toOptions !== 'function') {
    throw usageError(`"devctl ${path.join(' ')}" needs a subcommand (run devctl ${path.join(' ')} --help)`);
  }
  const parsed = parseArgs(rest, await argsOf(cmd)) as unknown as Parsed;
  return { path, options: leaf.toOptions(parsed), command: cmd as LeafCommand };
}

/**
 * `--stack <path|name>`, taken by every command: act on another checkout's stack on purpose (by
 * default a command acts on the checkout it runs in). Sets DEVCTL_ROOT, which every command reads.
 */
async function withoutStackOption(argv: string[]): Promise<string[]> {
  const at = argv.findIndex((a) => a === '--stack' || a.startsWith('--stack='));
  if (at === -1 || (argv.indexOf('--') !== -1 && argv.indexOf('--') < at)) return argv;
  const token = argv[at] as string;
  const inline = token.startsWith('--stack=');
  const value = inline ? token.slice('--stack='.length) : argv[at + 1];
  if (!value || value.startsWith('-')) {
    throw usageError('--stack needs a checkout path or a stack name (see: devctl stacks)');
  }
  const { resolveStackRoot } = await import('./stacks/index');
  process.env.DEVCTL_ROOT = resolveStackRoot(value);
  return argv.filter((_, i) => i !== at && (inline || i !== at + 1));
}

/** The entry point: the only place that prints errors and sets the exit code. */
export async function cli(argv = process.argv.slice(2)): Promise<number> {
  const wantsJson = argv.includes('--json');
  const wantsVerbose = argv.includes('--verbose');
  try {
    const rawArgs = await withoutStackOption(argv);
    if (rawArgs.length === 0 || rawArgs[0] === '--help' || rawArgs[0] === '-h') {
      process.stdout.write(`${plain(await renderUsage(main as CommandDef))}\n`);
      return rawArgs.length === 0 ? EXIT_USAGE : 0;
    }
    if (rawArgs[0] === '--version' || rawArgs[0] === '-v') {
      process.stdout.write(`${DEVCTL_VERSION}\n`);
      return 0;
    }
    const { cmd, path, rest } = await resolveCommand(rawArgs);
    if (rest.includes('--help') || rest.includes('-h')) {
      const parent =
        path.length > 1 ? (await subCommandsOf(main as CommandDef))[path[0] as string] : (main as CommandDef);
      process.stdout.write(`${plain(await renderUsage(cmd, parent))}\n`);
      return 0;
    }
    const { command: leaf, options } = await parseCommandLine(rawArgs);
    if ((options as { json?: boolean }).json) disableColors();
    await leaf.execute(options);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, { json: wantsJson, verbose: wantsVerbose });
  }
}
