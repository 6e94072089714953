// `devctl mcp` over a real stdio transport: the SDK's Client spawns the real bin, which talks to a
// real PM2 daemon (private PM2_HOME) running fixture services on free ports. Covers the tool list
// with and without --read-only, each tool's data, bounds, masking, errors as isError results, and
// restart's verdict.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createPm2Home, freePort, type Pm2Home } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskText } from '../src/mcp/mask';
import { MAX_RESULT_BYTES } from '../src/mcp/result';
import { createFixture, devctlBin, type Fixture, stackRegistryEnv } from './fixtures/harness';

const TOKEN = 'tok-SECRET-4242';
const DB_PASSWORD = 'pw-SECRET-9191';
const CALL_TIMEOUT_MS = 240_000;

interface Connection {
  client: Client;
  stderr: () => string;
  /** Errors the client saw on the transport (a non-protocol line on stdout would be one). */
  transportErrors: Error[];
  close(): Promise<void>;
}

async function connect(env: Record<string, string>, args: string[] = []): Promise<Connection> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [devctlBin, 'mcp', ...args],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NO_COLOR: '1',
      ...stackRegistryEnv(),
      ...env,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const transportErrors: Error[] = [];
  const client = new Client({ name: 'devctl-test', version: '1.0.0' });
  client.onerror = (error) => transportErrors.push(error);
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    transportErrors,
    async close() {
      const pid = transport.pid;
      await client.close();
      // close() ends stdin and escalates to signals; make sure, by pid, that nothing is left.
      if (pid !== null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already exited.
        }
      }
    },
  };
}

async function call(connection: Connection, name: string, args: Record<string, unknown> = {}) {
  return (await connection.client.callTool({ name, arguments: args }, undefined, {
    timeout: CALL_TIMEOUT_MS,
  })) as CallToolResult;
}

/** The structured content of a successful call, checked against its JSON text copy. */
function dataOf<T = Record<string, unknown>>(result: CallToolResult): T {
  const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
  if (result.isError) throw new Error(`the tool failed: ${text}`);
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return result.structuredContent as T;
}

const textOf = (result: CallToolResult) => (result.content[0]?.type === 'text' ? result.content[0].text : '');

interface LogsData {
  returned: number;
  requested: number;
  truncated: boolean;
  truncation?: string;
  lines: { time: string; service: string; stream: string; text: string }[];
}

interface ServiceResult {
  name: string;
  action: string;
  ok: boolean;
  healthy: boolean | null;
  state: string;
}

interface Finding {
  kind: string;
  service: string;
  severity: string;
  summary: string;
  next: string;
}

describe('devctl mcp', () => {
  let fixture: Fixture;
  let server: Connection;
  let env: Record<string, string>;
  /** Where the api's DATABASE_URL points: a free port, so the database is unreachable. */
  let databasePort: number;

  beforeAll(async () => {
    databasePort = await freePort();
    fixture = await createFixture([
      {
        name: 'api',
        env: {
          FIXTURE_API_TOKEN: TOKEN,
          DATABASE_URL: `postgres://app:${DB_PASSWORD}@127.0.0.1:${databasePort}/app`,
        },
      },
      { name: 'worker', dependsOn: ['api'] },
      { name: 'broken', mode: 'config-error' },
    ]);
    env = { ...fixture.home.env, DEVCTL_ROOT: fixture.root };
    server = await connect(env);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await fixture?.cleanup();
  }, 120_000);

  it('lists every tool, and only the read tools with --read-only', async () => {
    const all = await server.client.listTools();
    expect(all.tools.map((t) => t.name).sort()).toEqual(
      ['diagnose', 'env', 'graph', 'logs', 'restart', 'stacks', 'start', 'status', 'stop', 'trace'].sort(),
    );
    const readOnly = await connect(env, ['--read-only']);
    try {
      const listed = await readOnly.client.listTools();
      expect(listed.tools.map((t) => t.name).sort()).toEqual([
        'diagnose',
        'env',
        'graph',
        'logs',
        'stacks',
        'status',
        'trace',
      ]);
      for (const tool of listed.tools) expect(tool.annotations?.readOnlyHint).toBe(true);
      // A hidden tool cannot be called either.
      const refused = await call(readOnly, 'stop', { service: 'all' });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/stop/);
    } finally {
      await readOnly.close();
    }
  });

  it('starts the stack, waits for health, and names the service that did not start', async () => {
    const result = await call(server, 'start', { service: 'all' });
    const report = dataOf<{ ok: boolean; services: ServiceResult[] }>(result);
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.services.map((s) => [s.name, s]));
    expect(byName.api).toMatchObject({ ok: true, healthy: true });
    expect(byName.worker).toMatchObject({ ok: true, healthy: true });
    expect(byName.broken?.ok).toBe(false);
  });

  it('status answers what `devctl status --json` answers', async () => {
    const data = dataOf<{
      daemon: { running: boolean };
      services: { name: string; status: string; health: { ok: boolean } | null }[];
    }>(await call(server, 'status'));
    expect(data.daemon.running).toBe(true);
    const api = data.services.find((s) => s.name === 'api');
    expect(api?.status).toBe('online');
    expect(api?.health?.ok).toBe(true);
    const cli = JSON.parse((await fixture.devctl(['status', '--json'])).stdout) as typeof data;
    expect(data.services.map((s) => [s.name, s.status])).toEqual(cli.services.map((s) => [s.name, s.status]));
    // One service only.
    const one = dataOf<typeof data>(await call(server, 'status', { service: 'worker' }));
    expect(one.services.map((s) => s.name)).toEqual(['worker']);
  });

  it('stacks answers what `devctl stacks --json` answers', async () => {
    type Stacks = { stacks: { namespace: string; root: string | null; state: string; current: boolean }[] };
    const data = dataOf<Stacks>(await call(server, 'stacks'));
    const cli = JSON.parse((await fixture.devctl(['stacks', '--json'])).stdout) as Stacks;
    // The registry is shared with the test files running beside this one (so their stacks never
    // take the same ports), and they add, start and stop stacks between the two calls (CI: another
    // file's `new service` landed in between): this stack's entry must be the same in both.
    const current = (list: Stacks) => list.stacks.filter((s) => s.current);
    expect(current(data)).toHaveLength(1);
    expect(current(data)).toEqual(current(cli));
    // The fixture's namespace, known to PM2 only (its ecosystem claims no block): found by its processes' folder.
    const own = data.stacks.find((s) => s.namespace === fixture.namespace);
    expect(own).toMatchObject({ root: fixture.root, current: true, state: 'partly running' });
  });

  it('graph answers what `devctl graph --json` answers', async () => {
    type Graph = {
      nodes: { name: string; state: string; pid: number | null; timing: string; startup: unknown }[];
      criticalChain: { links: { name: string }[] } | null;
    };
    const data = dataOf<Graph>(await call(server, 'graph'));
    const cli = JSON.parse((await fixture.devctl(['graph', '--json'])).stdout) as Graph;
    const view = (graph: Graph) => ({
      nodes: graph.nodes.map((n) => [n.name, n.state, n.pid, n.timing, n.startup]),
      chain: graph.criticalChain?.links.map((l) => l.name) ?? null,
    });
    expect(view(data)).toEqual(view(cli));
    // The start above waited: api and worker have their measured start, broken never became healthy.
    expect(data.nodes.find((n) => n.name === 'worker')?.timing).toBe('recorded');
    expect(data.nodes.find((n) => n.name === 'broken')?.timing).toBe('never-healthy');
  });

  it('logs returns at most the lines asked for, masked, and refuses more than 1000', async () => {
    const outLog = join(fixture.dir('api'), 'logs', 'out.log');
    appendFileSync(
      outLog,
      `${new Date().toISOString().slice(0, 19)}: connecting with DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app and Authorization: Bearer ${TOKEN}\n`,
    );
    const few = await call(server, 'logs', { service: 'api', lines: 3 });
    const data = dataOf<LogsData>(few);
    expect(data.returned).toBeLessThanOrEqual(3);
    expect(data.lines.length).toBe(data.returned);
    expect(data.lines.at(-1)?.text).toContain('connecting with DATABASE_URL=postgres://app:****@db');
    expect(JSON.stringify(few)).not.toContain('SECRET');
    for (const line of data.lines) expect(line).toMatchObject({ service: 'api', stream: expect.any(String) });

    // The CLI's --json (one object per line) gives the same last lines; it prints them as they are
    // (a person's own terminal), the tool masks them (its answer goes to a model's context).
    const cliFew = (await fixture.devctl(['logs', 'api', '--lines', '3', '--json'])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { text: string; stream: string });
    expect(data.lines.map((l) => [l.stream, l.text])).toEqual(
      cliFew.map((l) => [l.stream, maskText(l.text)]),
    );
    expect(cliFew.at(-1)?.text).toContain(DB_PASSWORD);

    const errOnly = dataOf<LogsData>(await call(server, 'logs', { service: 'broken', stream: 'err' }));
    expect(errOnly.lines.some((l) => l.text.includes('FIXTURE_API_TOKEN is required'))).toBe(true);
    expect(errOnly.lines.every((l) => l.stream === 'err')).toBe(true);

    const grep = dataOf<LogsData>(await call(server, 'logs', { service: 'api', grep: 'listening on' }));
    expect(grep.returned).toBeGreaterThan(0);
    expect(grep.lines.every((l) => l.text.includes('listening on'))).toBe(true);

    const tooMany = await call(server, 'logs', { service: 'api', lines: 5000 });
    expect(tooMany.isError).toBe(true);
    expect(textOf(tooMany)).toMatch(/1000/);
  });

  it('logs stays under its byte bound and says what it left out', async () => {
    const outLog = join(fixture.dir('worker'), 'logs', 'out.log');
    const stamp = new Date().toISOString().slice(0, 19);
    const long = 'x'.repeat(20_000);
    appendFileSync(outLog, Array.from({ length: 60 }, (_, i) => `${stamp}: payload ${i} ${long}\n`).join(''));
    const result = await call(server, 'logs', { service: 'worker', lines: 1000 });
    const data = dataOf<LogsData>(result);
    expect(Buffer.byteLength(JSON.stringify(result.structuredContent))).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(data.truncated).toBe(true);
    expect(data.truncation).toMatch(/oldest/);
    // The newest line is kept, shortened.
    const last = data.lines.at(-1)?.text ?? '';
    expect(last).toMatch(/^payload 59 x+… \[\d+ more characters\]$/);
  });

  it('env shows each variable with its source and never a secret value', async () => {
    const result = await call(server, 'env', { service: 'api' });
    const data = dataOf<{
      services: { name: string; variables: { name: string; value: string | null; source: string }[] }[];
    }>(result);
    const variables = Object.fromEntries((data.services[0]?.variables ?? []).map((v) => [v.name, v]));
    expect(variables.FIXTURE_API_TOKEN).toMatchObject({ value: '****', source: 'process' });
    expect(variables.DATABASE_URL?.value).toBe(`postgres://app:****@127.0.0.1:${databasePort}/app`);
    expect(variables.GREETING).toMatchObject({ value: 'hello', source: 'default' });
    expect(JSON.stringify(result)).not.toContain('SECRET');
    // The CLI's --json says the same of each variable (name, masked value, source).
    const cli = JSON.parse((await fixture.devctl(['env', 'api', '--json'])).stdout) as typeof data;
    const view = (report: typeof data) =>
      report.services.map((service) => [
        service.name,
        service.variables.map((v) => [v.name, v.value, v.source]),
      ]);
    expect(view(data)).toEqual(view(cli));
    // The fixture prints its configuration unmasked: the secret is really there to leak.
    expect(readFileSync(join(fixture.root, 'ecosystem.config.js'), 'utf8')).toContain(TOKEN);
  });

  it('diagnose finds the injected configuration fault, as `devctl diagnose --json` does', async () => {
    const data = dataOf<{ healthy: boolean; findings: Finding[] }>(await call(server, 'diagnose'));
    const cli = JSON.parse((await fixture.devctl(['diagnose', '--json'])).stdout) as typeof data;
    const view = (report: typeof data) => ({
      healthy: report.healthy,
      findings: report.findings.map((f) => [f.service, f.kind, f.severity, f.next]),
    });
    expect(view(data)).toEqual(view(cli));
    expect(data.healthy).toBe(false);
    const finding = data.findings.find((f) => f.service === 'broken');
    expect(finding).toMatchObject({ kind: 'config-error', severity: 'error' });
    expect(finding?.next).toMatch(/broken/);
  });

  it('an unknown service is an isError result with the CLI message', async () => {
    for (const [tool, args] of [
      ['status', { service: 'apii' }],
      ['logs', { service: 'apii' }],
      ['diagnose', { service: 'apii' }],
      ['restart', { service: 'apii' }],
    ] as const) {
      const result = await call(server, tool, args);
      expect(result.isError, tool).toBe(true);
      expect(textOf(result), tool).toMatch(/unknown service "apii".*did you mean api\?/);
      expect((result.structuredContent as { error: { exitCode: number } }).error.exitCode, tool).toBe(2);
    }
    const badSince = await call(server, 'logs', { service: 'api', since: 'yesterday-ish' });
    expect(badSince.isError).toBe(true);
  });

  it('restart waits for health and its verdict names a dependency the service cannot reach', async () => {
    const data = dataOf<{
      ok: boolean;
      restartOk: boolean;
      services: ServiceResult[];
      verdict: { findings: Finding[] };
    }>(await call(server, 'restart', { service: 'api' }));
    expect(data.services.map((s) => [s.name, s.action, s.healthy])).toEqual([['api', 'restarted', true]]);
    // Healthy, yet not ok: the verdict found the unreachable database.
    expect(data.restartOk).toBe(true);
    expect(data.ok).toBe(false);
    const finding = data.verdict.findings.find((f) => f.kind === 'dependency-unreachable');
    expect(finding?.service).toBe('api');
    expect(finding?.summary).toContain(`127.0.0.1:${databasePort}`);
    expect(JSON.stringify(data)).not.toContain('SECRET');
  });

  it('restart after the fix returns a healthy verdict', async () => {
    fixture.writeEcosystem([
      { name: 'api', env: { FIXTURE_API_TOKEN: TOKEN } },
      { name: 'worker', dependsOn: ['api'] },
      { name: 'broken', mode: 'config-error' },
    ]);
    const data = dataOf<{ ok: boolean; services: ServiceResult[]; verdict: unknown }>(
      await call(server, 'restart', { service: 'api' }),
    );
    expect(data.services.map((s) => [s.name, s.action, s.healthy])).toEqual([['api', 'restarted', true]]);
    expect(data.ok, JSON.stringify(data.verdict)).toBe(true);
    expect(data.verdict).not.toBeNull();
  });

  it('restart returns a failing verdict naming the service when the new code crashes', async () => {
    fixture.writeEcosystem([
      { name: 'api', env: { FIXTURE_API_TOKEN: TOKEN } },
      { name: 'worker', dependsOn: ['api'], mode: 'crash' },
      { name: 'broken', mode: 'config-error' },
    ]);
    const data = dataOf<{
      ok: boolean;
      services: (ServiceResult & { failure: { kind: string; errorLines: string[] } | null })[];
      verdict: unknown;
    }>(await call(server, 'restart', { service: 'worker', timeoutSeconds: 60 }));
    expect(data.ok).toBe(false);
    const worker = data.services.find((s) => s.name === 'worker');
    expect(worker?.ok).toBe(false);
    expect(JSON.stringify(data)).toContain('worker failed on purpose at start');
  });

  it('start and restart answer what `devctl start --wait --json` and `restart --wait --json` answer', async () => {
    // broken exits 78 at every start, so both runs meet the same state and must say the same.
    interface Lifecycle {
      ok: boolean;
      services: (ServiceResult & {
        failure: { kind: string; exitCode: number | null; next: string } | null;
      })[];
      verdict?: { healthy: boolean; findings: Finding[] } | null;
    }
    const view = (report: Lifecycle) => ({
      ok: report.ok,
      services: report.services.map((s) => [
        s.name,
        s.action,
        s.ok,
        s.healthy,
        s.failure?.kind,
        s.failure?.exitCode,
        s.failure?.next,
      ]),
      verdict: report.verdict
        ? report.verdict.findings.map((f) => [f.service, f.kind, f.severity, f.next])
        : report.verdict,
    });
    for (const [tool, command] of [
      ['start', ['start', 'broken', '--wait', '--no-build', '--json']],
      ['restart', ['restart', 'broken', '--wait', '--no-build', '--json']],
    ] as const) {
      const cli = await fixture.devctl([...command]);
      const cliReport = JSON.parse(cli.stdout) as Lifecycle;
      const mcp = dataOf<Lifecycle>(await call(server, tool, { service: 'broken', build: false }));
      expect(view(mcp), tool).toEqual(view(cliReport));
      expect(mcp.ok, tool).toBe(false);
      expect(cli.code, tool).toBe(1);
      expect(mcp.services.find((s) => s.name === 'broken')?.failure?.exitCode, tool).toBe(78);
    }
  });

  it('stop stops one service and status shows it', async () => {
    const stopped = dataOf<{ ok: boolean; services: ServiceResult[] }>(
      await call(server, 'stop', { service: 'api' }),
    );
    expect(stopped.services.find((s) => s.name === 'api')?.action).toBe('stopped');
    const status = dataOf<{ services: { name: string; status: string }[] }>(
      await call(server, 'status', { service: 'api' }),
    );
    expect(status.services[0]?.status).toBe('stopped');
  });

  it('wrote nothing but protocol on stdout and logged to stderr', () => {
    expect(server.transportErrors).toEqual([]);
    expect(server.stderr()).toContain('devctl mcp: serving over stdio');
  });
});

describe('devctl mcp without a PM2 daemon', () => {
  let home: Pm2Home;
  let fixture: Fixture;
  let server: Connection;

  beforeAll(async () => {
    fixture = await createFixture([{ name: 'lonely' }]);
    home = createPm2Home('devctl-mcp-nodaemon-');
    server = await connect({ ...home.env, DEVCTL_ROOT: fixture.root });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await home?.cleanup();
    await fixture?.cleanup();
  }, 120_000);

  it('status says the daemon is not running and what to run, without starting one', async () => {
    const data = dataOf<{ daemon: { running: boolean }; message: string }>(await call(server, 'status'));
    expect(data.daemon.running).toBe(false);
    expect(data.message).toMatch(/PM2 daemon is not running.*pnpm pm2:start/);
    expect(home.daemonPid()).toBeUndefined();
  });

  it('logs of a service that never ran say so instead of failing', async () => {
    const data = dataOf<LogsData & { notes: string[] }>(await call(server, 'logs', { service: 'lonely' }));
    expect(data.returned).toBe(0);
    expect(data.notes.join('\n')).toMatch(/lonely has no log file yet.*devctl start lonely/);
  });
});
