// devctl's MCP server: the debugging loop of AGENTS.md as tools. Read tools (status, logs,
// diagnose, env) answer from the same functions as the CLI's --json; the tools that change the
// stack (start, stop, restart) run the real commands, and --read-only leaves them out.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { DEVCTL_VERSION } from '../version';
import { answer } from './result';
import { diagnoseTool } from './tools/diagnose';
import { envTool } from './tools/env';
import { graphTool } from './tools/graph';
import { type CallContext, restartTool, startTool, stopTool } from './tools/lifecycle';
import { DEFAULT_LOG_LINES, logsTool, MAX_LOG_LINES } from './tools/logs';
import { stacksTool } from './tools/stacks';
import { statusTool } from './tools/status';
import { traceTool } from './tools/trace';

export interface McpServerOptions {
  /** Only the tools that change nothing. */
  readOnly: boolean;
}

const INSTRUCTIONS = `devctl runs this project's backends under PM2. To debug, the loop is: diagnose (the root cause first: the service at fault, the evidence, the source file:line or the .env variable, and the next step; it reads PM2's state, the logs and health itself), make the edit it names, then restart with the service name (rebuilds, waits for /health, returns a verdict). trace follows one request id (the x-request-id of a failed answer) across the services; status and logs are fallbacks. The frontend is not under PM2 (pnpm dev). Each checkout (clone or git worktree) runs its own stack on its own ports: stacks gives this checkout's gateway URL and ports (never assume 3000).`;

const optionalService = z
  .string()
  .optional()
  .describe('a PM2 name, e.g. form-service; omitted or "all" means every backend');
const requiredService = z
  .string()
  .min(1)
  .describe('a PM2 name, e.g. form-service, or "all" for every backend of this project');
const build = z
  .boolean()
  .optional()
  .describe('build the service first (default true); false restarts the code already built');
const timeoutSeconds = z
  .number()
  .positive()
  .max(600)
  .optional()
  .describe('how long to wait for /health, per service, in seconds (default 30)');

type Extra = {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; message?: string };
  }) => Promise<void>;
};

/** The cancellation signal and, when the client asked for them, progress notifications. */
function contextOf(extra: Extra): CallContext {
  const token = extra._meta?.progressToken;
  let ticks = 0;
  return {
    signal: extra.signal,
    progress:
      token === undefined
        ? undefined
        : (message) => {
            ticks++;
            extra
              .sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress: ticks, message },
              })
              .catch(() => {});
          },
  };
}

export function createMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: 'devctl', version: DEVCTL_VERSION },
    { instructions: INSTRUCTIONS, capabilities: { tools: {} } },
  );
  const readOnly = { readOnlyHint: true, destructiveHint: false, openWorldHint: false } as const;

  server.registerTool(
    'status',
    {
      title: 'Service status',
      description:
        'One entry per backend: state (online, errored, crash-loop, stopped...), pid, port, live /health answer, cpu, memory, restarts, exit code. Same data as `devctl status --json`. Start here.',
      inputSchema: { service: optionalService },
      annotations: readOnly,
    },
    (args) => answer(() => statusTool(args)),
  );

  server.registerTool(
    'stacks',
    {
      title: 'Every stack on this machine',
      description:
        "One entry per checkout (clone or git worktree) that runs a stack: its folder, branch, PM2 namespace, every service's port, the web port, the gateway URL, and the state of its services; `current: true` marks this checkout's (use its gatewayUrl and ports, never assume 3000). Same data as `devctl stacks --json`.",
      inputSchema: {},
      annotations: readOnly,
    },
    () => answer(() => stacksTool()),
  );

  server.registerTool(
    'logs',
    {
      title: 'Recent log lines',
      description: `The last lines of a service's logs (out and error merged in time order), then stops: never follows. Each line has time, service, stream, level and text. Bounded: at most ${MAX_LOG_LINES} lines and 240 KiB; long lines are shortened; secrets are masked. Same lines as \`devctl logs <service> --json\`.`,
      inputSchema: {
        service: optionalService,
        lines: z
          .number()
          .int()
          .min(1)
          .max(MAX_LOG_LINES)
          .optional()
          .describe(`how many lines (default ${DEFAULT_LOG_LINES}, at most ${MAX_LOG_LINES})`),
        stream: z
          .enum(['out', 'err', 'all'])
          .optional()
          .describe('out.log, error.log, or both merged (default all)'),
        since: z.string().optional().describe('only lines since 10m, 2h, 1d or an ISO time'),
        grep: z.string().optional().describe('only lines matching this regular expression'),
      },
      annotations: readOnly,
    },
    (args) => answer(() => logsTool(args)),
  );

  server.registerTool(
    'diagnose',
    {
      title: 'Find the root cause',
      description:
        'What is wrong with the running stack: findings, most severe first, each with kind (config-error, uncaught-exception, request-error, crash-loop, port-conflict, dependency-unreachable...), the service at fault, evidence (log lines, PM2 events, probes), the source location (file:line) and the next step. Same data as `devctl diagnose --json`.',
      inputSchema: {
        service: optionalService,
        since: z
          .string()
          .optional()
          .describe('only what happened since 10m, 2h or an ISO time (e.g. since a fix), for every service'),
      },
      annotations: readOnly,
    },
    (args) => answer(() => diagnoseTool(args)),
  );

  server.registerTool(
    'trace',
    {
      title: 'Follow one request',
      description:
        "The path of one request across the services in time order: each hop's service, method, url, status, duration (or how long ago it came in, when it never answered), the error it logged with its source file:line, the hop where the failure began and the next step. Give requestId (the x-request-id header of a failed answer; a 500's body has it as requestId), or lastError for the most recent failed request. Same data as `devctl trace --json`.",
      inputSchema: {
        requestId: z.string().optional().describe('the request id, e.g. from the x-request-id header'),
        lastError: z
          .boolean()
          .optional()
          .describe(
            'trace the most recent failed request (5xx, or one that never answered); the default without requestId',
          ),
      },
      annotations: readOnly,
    },
    (args) => answer(() => traceTool(args)),
  );

  server.registerTool(
    'graph',
    {
      title: 'Dependency graph and start-up times',
      description:
        "Who waits on whom (depends_on), each service's state, pid and the time from launch to healthy at its last start (timing: recorded, never-healthy, earlier-process or unknown; never guessed), and the critical chain: the waits that decided how long the last start took. Same data as `devctl graph --json`.",
      inputSchema: {},
      annotations: readOnly,
    },
    () => answer(() => graphTool()),
  );

  server.registerTool(
    'env',
    {
      title: 'Resolved environment',
      description:
        "A service's environment as it resolves at start: each variable's value (secrets masked) and where it comes from (process, service .env, root .env, default). Same data as `devctl env --json`.",
      inputSchema: { service: optionalService },
      annotations: readOnly,
    },
    (args, extra) => answer(() => envTool(args, extra.signal)),
  );

  if (options.readOnly) return server;

  server.registerTool(
    'start',
    {
      title: 'Start services',
      description:
        'Builds, then starts services under PM2 in dependency order (with what they depend on) and, unless wait is false, waits until each answers /health. Returns each service with its state, health and, on failure, the reason, the error lines and the next step. Same data as `devctl start --wait --json`.',
      inputSchema: {
        service: requiredService,
        wait: z.boolean().optional().describe('wait until each answers /health (default true)'),
        build,
        timeoutSeconds,
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, extra) => answer(() => startTool(args, contextOf(extra as unknown as Extra))),
  );

  server.registerTool(
    'stop',
    {
      title: 'Stop services',
      description:
        "Stops services of this project's PM2 namespace (dependants first); never another project's processes. Same data as `devctl stop --json`.",
      inputSchema: { service: requiredService },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (args, extra) => answer(() => stopTool(args, contextOf(extra as unknown as Extra))),
  );

  server.registerTool(
    'restart',
    {
      title: 'Restart and verify',
      description:
        'Rebuilds and restarts services with fresh code, .env and ecosystem env, waits until each answers /health, and returns the verdict: ok, each service with its health, the log lines written since the restart, and diagnose findings for anything new. Use it after a fix. Same as `devctl restart <service> --wait --json`.',
      inputSchema: { service: requiredService, build, timeoutSeconds },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) => answer(() => restartTool(args, contextOf(extra as unknown as Extra))),
  );

  return server;
}
