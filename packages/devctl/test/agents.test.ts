// The agent docs, followed literally: the loop of the devctl skill (.claude/skills/devctl/SKILL.md),
// which AGENTS.md's "Debugging workflow" holds a copy of, is read from the file itself and its
// commands run, in order, as the real devctl bin against real services under a real PM2 daemon with
// faults injected, the broken service's name put in for <service> and the failed request's
// x-request-id for <request-id>. The root cause (service, kind, file:line or variable) must be in
// diagnose's output alone, the fallbacks must work as documented, and after the fix the documented
// restart must report the service healthy.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  devctlBin,
  type FixtureStack,
  get,
  pm2StatusRpc,
  startFixtureStack,
  waitUntil,
} from './fixtures/harness';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const agentsMd = readFileSync(join(repoRoot, 'AGENTS.md'), 'utf8');
const skillMd = readFileSync(join(repoRoot, '.claude/skills/devctl/SKILL.md'), 'utf8');

/** The `key: value` lines of a SKILL.md front matter (the block between the first two `---`). */
function frontMatter(markdown: string): Record<string, string> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(markdown);
  if (!match) throw new Error('SKILL.md has no front matter');
  const fields: Record<string, string> = {};
  for (const line of (match[1] ?? '').split('\n')) {
    const field = /^([a-z-]+):\s*(.*)$/.exec(line);
    if (field) fields[field[1] as string] = (field[2] ?? '').trim();
  }
  return fields;
}

/** The loop: the text between `<!-- loop:start -->` and `<!-- loop:end -->`. */
function loopText(markdown: string, file: string): string {
  const start = markdown.indexOf('<!-- loop:start -->');
  const end = markdown.indexOf('<!-- loop:end -->');
  if (start === -1 || end < start)
    throw new Error(`${file} has no <!-- loop:start --> ... <!-- loop:end --> block`);
  return markdown.slice(start, end);
}

/**
 * The `pnpm devctl ...` lines of the fenced sh blocks, in order, as argument lists (without
 * `pnpm devctl` and trailing comments).
 */
function devctlCommands(text: string): string[][] {
  const commands: string[][] = [];
  for (const block of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
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

const loop = loopText(skillMd, '.claude/skills/devctl/SKILL.md');
/** The numbered steps, then the fallbacks ("When `diagnose` is not enough"). */
const fallbacksAt = loop.search(/^When `diagnose` is not enough/m);
const loopCommands = devctlCommands(loop.slice(0, fallbacksAt));
const fallbackCommands = devctlCommands(loop.slice(fallbacksAt));

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

/** Every placeholder of a documented command filled in; undefined when one has no value here. */
function concrete(args: string[], values: Record<string, string | undefined>): string[] | undefined {
  const filled = args.map((arg) => (/^<[a-z-]+>$/.test(arg) ? values[arg.slice(1, -1)] : arg));
  return filled.every((arg): arg is string => arg !== undefined) ? filled : undefined;
}

async function runDocumented(stack: FixtureStack, args: string[]): Promise<Step> {
  const step = await run(stack, args);
  // A usage error (exit 2) means the docs show a command devctl does not accept.
  expect(step.code, `${step.command}\n${step.output}`).not.toBe(2);
  expect(step.code, `${step.command}\n${step.output}`).not.toBeNull();
  return step;
}

/**
 * The read-only steps already run on the stack as it is, by command line: two loops on one unchanged
 * stack share the steps whose command is the same (diagnose, trace --last-error, status), as an
 * agent would read the same output again. Emptied by a fix, which changes what they would say.
 */
const readSteps = new Map<string, Promise<Step>>();

function runRead(stack: FixtureStack, args: string[]): Promise<Step> {
  const key = args.join(' ');
  let step = readSteps.get(key);
  if (!step) {
    step = runDocumented(stack, args);
    readSteps.set(key, step);
  }
  return step;
}

/**
 * Follows the loop for `service`: its first step (diagnose), then every fallback that has its
 * placeholders filled, then `fix` (step 2) and the documented restart (step 3) unless `upTo: 'fix'`.
 */
async function followLoop(
  stack: FixtureStack,
  values: { service: string; 'request-id'?: string },
  options: { upTo?: 'fix'; fix?: () => void } = {},
): Promise<Step[]> {
  const steps: Step[] = [];
  const [diagnose, restart] = loopCommands as [string[], string[]];
  steps.push(await runRead(stack, concrete(diagnose, values) as string[]));
  for (const fallback of fallbackCommands) {
    const args = concrete(fallback, values);
    if (args) steps.push(await runRead(stack, args));
  }
  if (options.upTo === 'fix') return steps;
  options.fix?.();
  readSteps.clear();
  steps.push(await runDocumented(stack, concrete(restart, values) as string[]));
  return steps;
}

const outputOf = (steps: Step[], verb: string) =>
  steps
    .filter((step) => step.command.startsWith(`pnpm devctl ${verb}`))
    .map((step) => step.output)
    .join('\n');

describe('the devctl skill and AGENTS.md', () => {
  it('the skill has a name and a description that says when to use it', () => {
    const fields = frontMatter(skillMd);
    expect(fields.name).toBe('devctl');
    expect(fields.description).toMatch(/\bUse when\b/);
    expect(fields.description?.length ?? 0).toBeLessThanOrEqual(1024);
  });

  it("AGENTS.md's debugging workflow is the skill's loop, word for word", () => {
    const workflow = agentsMd.slice(agentsMd.search(/^## Debugging workflow\s*$/m));
    expect(workflow.length).toBeLessThan(agentsMd.length);
    expect(loopText(workflow, 'AGENTS.md')).toBe(loop);
  });

  it('the loop is diagnose, the edit it names, restart --wait; trace, logs and status are fallbacks', () => {
    expect(loopCommands).toEqual([['diagnose'], ['restart', '<service>', '--wait']]);
    expect(fallbackCommands).toEqual([
      ['trace', '<request-id>'],
      ['trace', '--last-error'],
      ['logs', '<service>', '--lines', '100'],
      ['status'],
    ]);
    // Where a request id comes from, and the lead for a fault with no stack.
    expect(loop).toContain('x-request-id');
    expect(loop).toMatch(/git diff/);
  });

  it('states the rules and how to register the MCP server', () => {
    expect(agentsMd).toMatch(/Read the evidence before fixing/i);
    expect(agentsMd).toMatch(/--nostream/);
    expect(agentsMd).toMatch(/frontend is not under PM2/i);
    expect(agentsMd).toContain('claude mcp add devctl -- pnpm --silent devctl mcp');
    expect(agentsMd).toContain('--read-only');
    const claudeMd = readFileSync(join(repoRoot, 'CLAUDE.md'), 'utf8');
    expect(claudeMd).toContain('@AGENTS.md');
  });
});

describe('following the loop reaches the root cause', () => {
  let stack: FixtureStack;
  let boomLine: number;
  let failedRequestId: string;
  const billingErrorLog = () => join(stack.root, 'services/billing/logs/billing.error.log');
  let ordersSteps: Promise<Step[]> | undefined;
  /**
   * The loop for orders up to the fix, run once: the request-time fault's test and the trace test
   * read the same commands' output (running trace twice more only repeated it).
   */
  const ordersLoop = () => {
    ordersSteps ??= followLoop(stack, { service: 'orders', 'request-id': failedRequestId }, { upTo: 'fix' });
    return ordersSteps;
  };

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
        (await pm2StatusRpc(stack, 'billing'))?.pid === 0 &&
        existsSync(billingErrorLog()) &&
        readFileSync(billingErrorLog(), 'utf8').includes('PAYMENT_API_KEY'),
      60_000,
    );
    // The fault a user hits: a request that makes a handler throw. Its answer carries the id the
    // loop says to paste into trace.
    const failed = await fetch(stack.url('orders', '/boom'));
    expect(failed.status).toBe(500);
    failedRequestId = failed.headers.get('x-request-id') ?? '';
    expect(failedRequestId).not.toBe('');
  }, 180_000);

  afterAll(async () => {
    await stack?.cleanup();
  }, 120_000);

  it('a handler that throws at request time: diagnose names service, kind and file:line; the logs show it', async () => {
    const steps = await ordersLoop();
    // The first command alone gives the root cause: service, kind, repository-relative location.
    const diagnosis = steps[0] as Step;
    expect(diagnosis.command).toBe('pnpm devctl diagnose');
    expect(diagnosis.output).toMatch(/\borders\b.*request-error/);
    expect(diagnosis.output).toContain(`services/orders/src/routes/boom.ts:${boomLine}`);
    // The logs fallback shows the same fault, with the line.
    const logs = outputOf(steps, 'logs');
    expect(logs).toMatch(/Cannot read properties of undefined \(reading 'percent'\)/);
    expect(logs).toContain(`routes/boom.ts:${boomLine}`);
  }, 300_000);

  it("trace, given the failed answer's x-request-id or --last-error, shows the request and the line", async () => {
    // The loop for orders ran every trace fallback with the request id filled in: the same commands.
    const steps = (await ordersLoop()).filter((step) => step.command.startsWith('pnpm devctl trace'));
    expect(steps.map((step) => step.command)).toEqual([
      `pnpm devctl trace ${failedRequestId}`,
      'pnpm devctl trace --last-error',
    ]);
    for (const step of steps) {
      expect(step.output, step.command).toContain(failedRequestId);
      expect(step.output, step.command).toContain(`boom.ts:${boomLine}`);
    }
  }, 300_000);

  it('a missing variable: diagnose names service, kind and variable, then the documented restart verifies the fix', async () => {
    // The stack has not changed since the orders loop: its diagnose, trace --last-error and status
    // are read again from that run (runRead); logs billing and the restart run here.
    const steps = await followLoop(
      stack,
      { service: 'billing' },
      {
        // Step 2, as the diagnosis says: set the variable in the service's .env.
        fix: () =>
          writeFileSync(join(stack.root, 'services/billing/.env'), 'PAYMENT_API_KEY=fixture-key-1234\n'),
      },
    );
    const diagnosis = (steps[0] as Step).output;
    expect(diagnosis).toMatch(/\bbilling\b.*config-error/);
    expect(diagnosis).toMatch(/PAYMENT_API_KEY/);
    expect(diagnosis).toContain('services/billing/.env');
    expect(outputOf(steps, 'status')).toMatch(/billing\s+(stopped|errored)\b.*\b78\b/);
    expect(outputOf(steps, 'logs')).toMatch(/PAYMENT_API_KEY/);

    const restart = steps.at(-1) as Step;
    expect(restart.command).toBe('pnpm devctl restart billing --wait');
    expect(restart.code, restart.output).toBe(0);
    expect(restart.output).toMatch(/verdict/i);
    expect(restart.output).not.toContain('fixture-key-1234');
    expect((await pm2StatusRpc(stack, 'billing'))?.status).toBe('online');
  }, 300_000);
});
