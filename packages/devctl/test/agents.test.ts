// AGENTS.md, followed literally: faults are injected into real services under a real PM2 daemon,
// then the commands of AGENTS.md's "Debugging workflow" section -- read from the file itself, in
// order -- run as the real devctl bin with the broken service's name put in for <service>. The root
// cause (service, kind, file:line or variable) must be reachable from their output alone, and after
// the fix the documented restart must report the service healthy.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  devctlBin,
  type FixtureStack,
  get,
  pm2Status,
  startFixtureStack,
  waitUntil,
} from './fixtures/diagnose/harness';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const agentsMd = readFileSync(join(repoRoot, 'AGENTS.md'), 'utf8');

/**
 * The `pnpm devctl ...` lines of the fenced sh blocks in the "Debugging workflow" section, in
 * order, as argument lists (without `pnpm devctl` and trailing comments).
 */
function workflowCommands(markdown: string): string[][] {
  const start = markdown.search(/^## Debugging workflow\s*$/m);
  if (start === -1) throw new Error('AGENTS.md has no "## Debugging workflow" section');
  const rest = markdown.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  const commands: string[][] = [];
  for (const block of section.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    for (const raw of (block[1] ?? '').split('\n')) {
      const line = raw.trim().replace(/\s+#.*$/, '');
      if (!line.startsWith('pnpm devctl ')) continue;
      if (/["'`$|;&]/.test(line))
        throw new Error(`cannot run "${line}" without a shell; keep workflow commands plain`);
      commands.push(line.split(/\s+/).slice(2));
    }
  }
  return commands;
}

interface Step {
  command: string;
  code: number | null;
  /** stdout and stderr, as an agent reads them in its terminal. */
  output: string;
}

function run(stack: FixtureStack, args: string[]): Promise<Step> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [devctlBin, ...args],
      { env: stack.env, cwd: stack.root, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ command: `pnpm devctl ${args.join(' ')}`, code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/** Runs the workflow's commands for `service`; `beforeRestart` is the fix (step 4). */
async function followWorkflow(
  stack: FixtureStack,
  service: string,
  options: { upTo?: 'fix'; beforeRestart?: () => void } = {},
): Promise<Step[]> {
  const steps: Step[] = [];
  for (const args of workflowCommands(agentsMd)) {
    const concrete = args.map((arg) => (arg === '<service>' ? service : arg));
    if (concrete[0] === 'restart') {
      if (options.upTo === 'fix') break;
      options.beforeRestart?.();
    }
    const step = await run(stack, concrete);
    // A usage error (exit 2) means AGENTS.md documents a command devctl does not accept.
    expect(step.code, `${step.command}\n${step.output}`).not.toBe(2);
    expect(step.code, `${step.command}\n${step.output}`).not.toBeNull();
    steps.push(step);
  }
  return steps;
}

const outputOf = (steps: Step[], verb: string) =>
  steps
    .filter((step) => step.command.startsWith(`pnpm devctl ${verb}`))
    .map((step) => step.output)
    .join('\n');

describe('AGENTS.md', () => {
  it('documents the workflow as status, logs, diagnose, then restart --wait', () => {
    const commands = workflowCommands(agentsMd);
    expect(commands.map((args) => args[0])).toEqual(['status', 'logs', 'diagnose', 'restart']);
    expect(commands.find((args) => args[0] === 'logs')).toEqual(['logs', '<service>', '--lines', '100']);
    expect(commands.at(-1)).toEqual(['restart', '<service>', '--wait']);
  });

  it('states the rules and how to register the MCP server', () => {
    expect(agentsMd).toMatch(/Read the logs before fixing/i);
    expect(agentsMd).toMatch(/--nostream/);
    expect(agentsMd).toMatch(/frontend is not under PM2/i);
    expect(agentsMd).toContain('claude mcp add devctl -- pnpm --silent devctl mcp');
    expect(agentsMd).toContain('--read-only');
    const claudeMd = readFileSync(join(repoRoot, 'CLAUDE.md'), 'utf8');
    expect(claudeMd).toContain('@AGENTS.md');
  });
});

describe('following AGENTS.md reaches the root cause', () => {
  let stack: FixtureStack;
  let boomLine: number;
  const billingErrorLog = () => join(stack.root, 'services/billing/logs/billing.error.log');

  beforeAll(async () => {
    stack = await startFixtureStack(
      [
        { name: 'catalog', folder: 'catalog' },
        { name: 'orders', folder: 'orders' },
        // No PAYMENT_API_KEY anywhere: the kit stops it with exit 78.
        { name: 'billing', folder: 'billing' },
      ],
      { namespace: 'agents-fixture' },
    );
    boomLine =
      readFileSync(join(stack.root, 'services/orders/src/routes/boom.ts'), 'utf8')
        .split('\n')
        .findIndex((line) => line.includes('discount.percent')) + 1;
    await waitUntil(
      'orders healthy',
      async () => (await get(stack.url('orders', '/health')).catch(() => ({ status: 0 }))).status === 200,
      60_000,
    );
    await waitUntil(
      'billing to exit on its configuration',
      async () =>
        (await pm2Status(stack, 'billing'))?.pid === 0 &&
        existsSync(billingErrorLog()) &&
        readFileSync(billingErrorLog(), 'utf8').includes('PAYMENT_API_KEY'),
      60_000,
    );
    // The fault a user hits: a request that makes a handler throw.
    expect((await get(stack.url('orders', '/boom'))).status).toBe(500);
  }, 180_000);

  afterAll(async () => {
    await stack?.cleanup();
  }, 120_000);

  it('a handler that throws at request time: service, kind and file:line', async () => {
    const steps = await followWorkflow(stack, 'orders', { upTo: 'fix' });
    const logs = outputOf(steps, 'logs');
    const diagnosis = outputOf(steps, 'diagnose');
    // The logs alone show the error and the source line (source maps on).
    expect(logs).toMatch(/Cannot read properties of undefined \(reading 'percent'\)/);
    expect(logs).toContain(`routes/boom.ts:${boomLine}`);
    // diagnose names the service, the kind and the repository-relative location.
    expect(diagnosis).toMatch(/\borders\b.*request-error/);
    expect(diagnosis).toContain(`services/orders/src/routes/boom.ts:${boomLine}`);
  }, 300_000);

  it('a missing variable: service, kind and variable, then the documented restart verifies the fix', async () => {
    const steps = await followWorkflow(stack, 'billing', {
      // Step 4, as the diagnosis says: set the variable in the service's .env.
      beforeRestart: () =>
        writeFileSync(join(stack.root, 'services/billing/.env'), 'PAYMENT_API_KEY=fixture-key-1234\n'),
    });
    const status = outputOf(steps, 'status');
    const logs = outputOf(steps, 'logs');
    const diagnosis = outputOf(steps, 'diagnose');
    expect(status).toMatch(/billing\s+(stopped|errored)\b.*\b78\b/);
    expect(logs).toMatch(/PAYMENT_API_KEY/);
    expect(diagnosis).toMatch(/\bbilling\b.*config-error/);
    expect(diagnosis).toMatch(/PAYMENT_API_KEY/);
    expect(diagnosis).toContain('services/billing/.env');

    const restart = steps.at(-1) as Step;
    expect(restart.command).toBe('pnpm devctl restart billing --wait');
    expect(restart.code, restart.output).toBe(0);
    expect(restart.output).toMatch(/verdict/i);
    expect(restart.output).not.toContain('fixture-key-1234');
    expect((await pm2Status(stack, 'billing'))?.status).toBe('online');
  }, 300_000);
});
