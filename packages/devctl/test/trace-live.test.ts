// `devctl trace` on real processes: three PM2 apps in a chain (edge -> mid -> leaf, each calling the
// next through the kit's client, which passes x-request-id on), a request that fails at the far
// end and one that hangs there, traced by the real devctl bin from their logs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trace } from '../src/trace/types';
import { devctlBin, type FixtureStack, type KitApp, startHealthyStack, waitUntil } from './fixtures/harness';

const apps: KitApp[] = [
  { name: 'leaf', folder: 'orders' },
  { name: 'mid', folder: 'orders', env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:leaf}}' } },
  { name: 'edge', folder: 'orders', env: { INVENTORY_SERVICE_URL: 'http://127.0.0.1:{{port:mid}}' } },
];

let stack: FixtureStack;

async function request(path: string): Promise<{ status: number; requestId: string; body: string }> {
  const response = await fetch(stack.url('edge', path), { signal: AbortSignal.timeout(10_000) });
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id') ?? '',
    body: await response.text(),
  };
}

/** Traces until the logs hold every hop expected (PM2 writes them a moment after the services). */
async function traceOf(
  args: string[],
  hops: number,
  complete: (trace: Trace) => boolean = (trace) => trace.hops.every((hop) => hop.completed),
): Promise<{ code: number | null; trace: Trace }> {
  let last: { code: number | null; trace: Trace } | undefined;
  let output = '';
  await waitUntil(`a trace with ${hops} hops`, async () => {
    const result = await stack.devctl('trace', ...args, '--json');
    output = result.stdout;
    const parsed = JSON.parse(result.stdout) as Trace | { error: unknown };
    if ('error' in parsed) return false;
    last = { code: result.code, trace: parsed };
    return parsed.hops.length >= hops && complete(parsed);
  }).catch((error: Error) => {
    throw new Error(`${error.message}; last answer: ${output}`);
  });
  return last as { code: number | null; trace: Trace };
}

const lineOf = (file: string, text: string) =>
  readFileSync(join(stack.root, file), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text)) + 1;

/** orders' body limit in the fixture's .env: a refusal by a setting, as in the trial (1024 bytes). */
const BODY_LIMIT = 1024;

beforeAll(async () => {
  stack = await startHealthyStack(apps, {
    namespace: 'trace-fixture',
    beforeStart: async (fixture) => {
      writeFileSync(join(fixture.root, 'services/orders/.env'), `# limits\nBODY_LIMIT_BYTES=${BODY_LIMIT}\n`);
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
}, 60_000);

describe('devctl trace', () => {
  it('follows a request that succeeds through every hop, and exits 0', async () => {
    const answer = await request('/orders/1');
    expect(answer.status).toBe(200);
    const { code, trace } = await traceOf([answer.requestId], 3);
    expect(code).toBe(0);
    expect(trace.failed).toBe(false);
    expect(trace.origin).toBeNull();
    expect(trace.hops.map((hop) => [hop.service, hop.depth, hop.method, hop.url, hop.status])).toEqual([
      ['edge', 0, 'GET', '/orders/1', 200],
      ['mid', 1, 'GET', '/items/1', 200],
      ['leaf', 2, 'GET', '/items/1', 200],
    ]);
  });

  it('follows a 500 two hops down to the line that threw, through the relays', async () => {
    const answer = await request('/orders/999');
    expect(answer.status).toBe(502);
    expect(answer.requestId).not.toBe('');
    const { code, trace } = await traceOf([answer.requestId], 3);
    expect(code).toBe(1);
    expect(trace.requestId).toBe(answer.requestId);
    expect(trace.hops.map((hop) => [hop.service, hop.depth, hop.url, hop.status])).toEqual([
      ['edge', 0, '/orders/999', 502],
      ['mid', 1, '/items/999', 502],
      ['leaf', 2, '/items/999', 500],
    ]);
    for (const hop of trace.hops) {
      expect(hop.completed).toBe(true);
      expect(hop.durationMs).toBeGreaterThanOrEqual(0);
    }
    // The relays logged what they relayed; the origin is the service that failed on its own.
    expect(trace.hops[0]?.error?.upstream).toBe('inventory');
    expect(trace.origin).toBe(2);
    const file = 'services/orders/src/routes/items.ts';
    const leafError = trace.hops[2]?.error;
    expect(leafError?.type).toBe('TypeError');
    expect(leafError?.location).toMatchObject({ file, line: lineOf(file, 'return entry.count') });
    expect(trace.next).toMatch(
      new RegExp(`^fix ${file}:\\d+:\\d+ \\(TypeError: .*\\), then pnpm devctl restart leaf --wait$`),
    );

    const text = await stack.devctl('trace', answer.requestId);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`request ${answer.requestId}`);
    expect(text.stdout).toMatch(/edge\s+GET \/orders\/999\s+502/);
    expect(text.stdout).toMatch(/ {4}leaf\s+GET \/items\/999\s+500/);
    expect(text.stdout).toContain(`origin: leaf ${file}:`);
  });

  it('--last-error picks the most recent failure: a hang at the far end, shown as never answered', async () => {
    const answer = await request('/orders/hang');
    expect(answer.status).toBe(504);
    // mid's own timeout fires after edge gave up on it: its 504 reaches nobody, and Fastify logs
    // no answer for it either. edge's 504 is logged last.
    const { code, trace } = await traceOf(['--last-error'], 3, (t) => t.hops[0]?.completed === true);
    expect(code).toBe(1);
    expect(trace.requestId).toBe(answer.requestId);
    const leaf = trace.hops.find((hop) => hop.service === 'leaf');
    expect(leaf).toMatchObject({ url: '/items/hang', completed: false, status: null, depth: 2 });
    expect(leaf?.pendingMs).toBeGreaterThan(0);
    expect(trace.hops[trace.origin ?? -1]?.service).toBe('leaf');
    expect(trace.hops[0]).toMatchObject({ service: 'edge', status: 504, depth: 0 });
    expect(trace.hops[1]).toMatchObject({ service: 'mid', depth: 1 });
    expect(trace.hops[1]?.error?.message).toMatch(/^inventory timed out after 1000 ms/);
    expect(trace.summary).toContain('leaf never answered GET /items/hang');
    const text = await stack.devctl('trace', '--last-error');
    expect(text.stdout).toMatch(/leaf\s+GET \/items\/hang\s+no answer\s+came in \S+ m?s ago/);
  });

  it('a refusal by the body limit points at the setting and its .env line; a refusal by the route points at its handler', async () => {
    const post = async (body: string) => {
      const response = await fetch(stack.url('edge', '/orders'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, requestId: response.headers.get('x-request-id') ?? '' };
    };
    const tooLarge = await post(JSON.stringify({ quantity: 1, note: 'x'.repeat(BODY_LIMIT * 2) }));
    expect(tooLarge.status).toBe(413);
    const bySetting = (await traceOf([tooLarge.requestId], 1)).trace;
    expect(bySetting.refusal).toMatchObject({
      service: 'edge',
      status: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      by: 'framework',
      variables: [
        {
          name: 'BODY_LIMIT_BYTES',
          value: String(BODY_LIMIT),
          source: 'service .env',
          place: 'services/orders/.env:2',
          default: '102400',
        },
      ],
    });
    expect(bySetting.summary).toContain('refused by Fastify in edge before any handler ran');
    expect(bySetting.next).toContain(
      `BODY_LIMIT_BYTES=${BODY_LIMIT} (services/orders/.env:2; default 102400)`,
    );
    expect(bySetting.next).toContain('pnpm devctl env edge');
    expect(bySetting.next).not.toContain('handler of');

    const badInput = await post(JSON.stringify({ quantity: 0 }));
    expect(badInput.status).toBe(400);
    const byRule = (await traceOf([badInput.requestId], 1)).trace;
    expect(byRule.refusal).toMatchObject({
      service: 'edge',
      status: 400,
      code: null,
      by: 'handler',
      variables: [],
    });
    expect(byRule.summary).toContain('refused by edge (400: quantity must be a whole number of at least 1)');
    expect(byRule.next).toContain("read the rule in edge's handler of POST /orders");
    expect(byRule.next).not.toBe(bySetting.next);

    const text = await stack.devctl('trace', tooLarge.requestId);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('BODY_LIMIT_BYTES=1024');
    expect(text.stdout).toContain('refused: Request body is too large (FST_ERR_CTP_BODY_TOO_LARGE)');
  });

  it('an unknown id exits 1 saying what was searched and what to run next', async () => {
    const result = await stack.devctl('trace', 'no-such-request-id');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no log line carries request id "no-such-request-id"');
    expect(result.stderr).toContain('of the out and error logs of 3 services');
    expect(result.stderr).toContain('pnpm devctl trace --last-error');
    const usage = await stack.devctl('trace');
    expect(usage.code).toBe(2);
  });
});

describe('the trace MCP tool', () => {
  it('answers the same trace as the CLI, and an unknown id as an isError result with the message', async () => {
    const answer = await request('/orders/999');
    expect(answer.status).toBe(502);
    const cli = await traceOf([answer.requestId], 3);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [devctlBin, 'mcp', '--read-only'],
      env: stack.env as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'trace-test', version: '1.0.0' });
    await client.connect(transport);
    const pid = transport.pid;
    try {
      const traced = (await client.callTool({
        name: 'trace',
        arguments: { requestId: answer.requestId },
      })) as CallToolResult;
      expect(traced.isError).toBeFalsy();
      const data = traced.structuredContent as unknown as Trace;
      expect(data.hops.map((hop) => [hop.service, hop.status])).toEqual(
        cli.trace.hops.map((hop) => [hop.service, hop.status]),
      );
      expect(data.origin).toBe(2);
      expect(data.next).toBe(cli.trace.next);
      const unknown = (await client.callTool({
        name: 'trace',
        arguments: { requestId: 'no-such-request' },
      })) as CallToolResult;
      expect(unknown.isError).toBe(true);
      expect(JSON.stringify(unknown.content)).toContain('trace --last-error');
    } finally {
      await client.close();
      if (pid !== null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already exited
        }
      }
    }
  });
});
