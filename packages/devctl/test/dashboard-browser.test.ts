/// <reference lib="dom" />
// `devctl dashboard` in a real browser (Debian's Chromium through playwright-core, launched exactly
// as apps/web's browser tests do) against a real stack: the trace fixture chain edge -> mid -> leaf
// under a private PM2 daemon, and the real bin. Sees the services online with the figures of
// `status --json` (and the MCP tool's), stops one from the page and sees it go down and come back,
// filters logs, opens the trace of a failed request and the findings. Screenshots of each panel go
// to test-artifacts/dashboard/ (git-ignored).
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type SpawnedProcess, spawnProcess } from '@repo/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type RunningChromium } from '../../../apps/web/e2e/chromium';
import type { ServiceStatus, StatusReport } from '../src/status/index';
import {
  devctlBin,
  type FixtureStack,
  get,
  orderChain,
  packageDir,
  startHealthyStack,
} from './fixtures/harness';

const apps = orderChain();
export const SCREENSHOTS = join(packageDir, 'test-artifacts', 'dashboard');

let stack: FixtureStack;
let dashboard: SpawnedProcess;
let chrome: RunningChromium;
let page: Page;
let url = '';
let failedRequestId = '';

async function shoot(name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The text of one cell of a service's row in the services panel. */
async function cell(service: string, field: string): Promise<string> {
  return (await page.locator(`tr[data-service="${service}"] td[data-field="${field}"]`).textContent()) ?? '';
}

/** Waits until the page shows `state` for `service` (pushed over the event stream, never reloaded). */
async function waitForState(service: string, state: string): Promise<void> {
  await page.waitForFunction(
    ([name, wanted]) =>
      document.querySelector(`tr[data-service="${name}"] td[data-field="status"]`)?.textContent === wanted,
    [service, state],
    { timeout: 60_000 },
  );
}

/** The fields of a status that do not move between two reads of a steady stack. */
function steady(service: ServiceStatus) {
  // `ready` is asked for by the dashboard only (a /ready probe costs the services more than status should).
  const { cpu: _cpu, memoryBytes: _memory, uptimeMs: _uptime, health, ready: _ready, ...rest } = service;
  return { ...rest, health: health ? { ok: health.ok, statusCode: health.statusCode } : null };
}

beforeAll(async () => {
  stack = await startHealthyStack(apps, { namespace: 'dashboard-fixture' });
  // One request that works and one that fails two hops down (leaf throws a TypeError).
  expect((await fetch(stack.url('edge', '/orders/1'))).status).toBe(200);
  const failed = await fetch(stack.url('edge', '/orders/999'));
  expect(failed.status).toBe(502);
  failedRequestId = failed.headers.get('x-request-id') ?? '';
  dashboard = spawnProcess(process.execPath, [devctlBin, 'dashboard', '--json'], {
    cwd: stack.root,
    env: stack.env,
    name: 'devctl dashboard',
  });
  const printed = await dashboard.waitForOutput(/\{"url".*\}\n/, 20_000);
  url = (JSON.parse(/\{"url".*\}/.exec(printed)?.[0] ?? '{}') as { url: string }).url;
  chrome = await launchChromium();
  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await chrome?.close();
  await dashboard?.kill();
  await stack?.cleanup();
}, 60_000);

describe('devctl dashboard in Chromium', () => {
  it('shows every service online, with the figures of status --json, the MCP tool and the API', async () => {
    await page.goto(url);
    for (const app of apps) await waitForState(app.name, 'online');
    await page.waitForFunction(() => document.querySelector('[data-testid="live"]')?.textContent === 'live');
    await shoot('services');
    // With the page open, the snapshots (each probes /health and /ready) add no line to any log.
    const logSizes = () =>
      readdirSync(join(stack.root, 'services', 'orders', 'logs')).map((file) => [
        file,
        statSync(join(stack.root, 'services', 'orders', 'logs', file)).size,
      ]);
    const sizesBefore = logSizes();
    const snapshots = async () =>
      Number(await page.locator('[data-testid="live"]').getAttribute('data-snapshots'));
    const snapshotsBefore = await snapshots();

    const cli = JSON.parse((await stack.devctl('status', '--json')).stdout) as StatusReport;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [devctlBin, 'mcp', '--read-only'],
      env: stack.env as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'dashboard-test', version: '1.0.0' });
    await client.connect(transport);
    let mcp: StatusReport;
    try {
      mcp = ((await client.callTool({ name: 'status', arguments: {} })) as CallToolResult)
        .structuredContent as unknown as StatusReport;
    } finally {
      await client.close();
    }
    const api = (await page.evaluate(async () => {
      const token = new URLSearchParams(window.location.search).get('token') ?? '';
      return (await fetch('/api/status', { headers: { 'x-devctl-token': token } })).json();
    })) as StatusReport;
    // One domain function, three faces: the same model, up to the live figures (CPU, memory,
    // uptime, the probe's latency).
    const shape = (report: StatusReport) => ({ ...report, services: report.services.map(steady) });
    expect(shape(api)).toEqual(shape(cli));
    expect(shape(mcp)).toEqual(shape(cli));

    // What the page shows is that model.
    expect(cli.services.map((s) => s.name).sort()).toEqual(['edge', 'leaf', 'mid']);
    for (const service of cli.services) {
      expect(await cell(service.name, 'status')).toBe(service.status);
      expect(await cell(service.name, 'pid')).toBe(String(service.pid));
      expect(await cell(service.name, 'port')).toBe(String(service.port));
      expect(await cell(service.name, 'restarts')).toBe(String(service.restarts));
      expect(await cell(service.name, 'health')).toMatch(/^ok \d+ms$/);
      expect(await cell(service.name, 'ready')).toMatch(/^ok \d+ms$/);
      expect(api.services.find((s) => s.name === service.name)?.ready?.ok).toBe(true);
      expect(await cell(service.name, 'memory')).toMatch(/MiB$/);
    }
    await page.waitForFunction(
      (count) =>
        Number(document.querySelector('[data-testid="live"]')?.getAttribute('data-snapshots')) >= count,
      snapshotsBefore + 2,
      { timeout: 30_000 },
    );
    expect(await snapshots()).toBeGreaterThanOrEqual(snapshotsBefore + 2);
    expect(logSizes()).toEqual(sizesBefore);
  });

  it('stops a service from the page, sees it go down, and restarts it with its verdict', async () => {
    const before = await cell('leaf', 'pid');
    await page.locator('tr[data-service="leaf"] button[data-action="stop"]').click();
    await waitForState('leaf', 'stopped');
    await page.locator('[data-verdict="leaf"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-verdict="leaf"]').textContent()).toBe('ok: leaf stopped');
    expect(await cell('leaf', 'pid')).toBe('-');
    expect((await get(stack.url('leaf', '/health')).catch(() => ({ status: 0 }))).status).toBe(0);
    await shoot('services-stopped');

    await page.locator('tr[data-service="leaf"] button[data-action="restart"]').click();
    await waitForState('leaf', 'online');
    await page.waitForFunction(
      () => /restarted and healthy/.test(document.querySelector('[data-verdict="leaf"]')?.textContent ?? ''),
      undefined,
      { timeout: 90_000 },
    );
    const after = await cell('leaf', 'pid');
    expect(after).toMatch(/^\d+$/);
    expect(after).not.toBe(before);
    expect((await get(stack.url('leaf', '/health'))).status).toBe(200);
    await shoot('services-restarted');
  });

  it('shows the graph with every service and what it waits on', async () => {
    await page.locator('button[data-panel="graph"]').click();
    await page.locator('li[data-node="edge"]').waitFor();
    expect(await page.locator('li[data-node="edge"]').textContent()).toContain('waits on mid');
    expect(await page.locator('li[data-node="mid"]').textContent()).toContain('waits on leaf');
    await shoot('graph');
  });

  it('filters the logs by service, level and text, live, and names the source line of a stack trace', async () => {
    await page.locator('button[data-panel="logs"]').click();
    await page.locator('[data-log-service]').first().waitFor();
    const services = () =>
      page.$$eval('[data-log-service]', (rows) => [
        ...new Set(rows.map((r) => r.getAttribute('data-log-service'))),
      ]);
    expect((await services()).sort()).toEqual(['edge', 'leaf', 'mid']);

    await page.locator('[data-testid="log-service"]').selectOption('leaf');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-log-service]')].every(
        (r) => r.getAttribute('data-log-service') === 'leaf',
      ),
    );
    await page.locator('[data-testid="log-level"]').selectOption('error');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-log-level]')].every((r) =>
        ['error', 'fatal', 'err'].includes(r.getAttribute('data-log-level') ?? ''),
      ),
    );
    // The TypeError of the failed request: its stack names the fixture's source file and line.
    const link = page.locator('[data-testid="source-link"]').first();
    await link.waitFor();
    expect(await link.textContent()).toMatch(/^services\/orders\/src\/routes\/items\.ts:\d+$/);
    await shoot('logs-filtered');

    // Live: a request made now appears without a reload (its request id was never in the logs
    // the page read); the text filter narrows to it.
    await page.locator('[data-testid="log-level"]').selectOption('all');
    const live = await fetch(stack.url('edge', '/orders/1'));
    const liveId = live.headers.get('x-request-id') ?? '';
    expect(liveId).not.toBe('');
    await page.locator('[data-testid="log-text"]').fill(liveId);
    await page.waitForFunction(
      (id) => [...document.querySelectorAll('.log-lines pre')].some((row) => row.textContent?.includes(id)),
      liveId,
      { timeout: 20_000 },
    );
    const texts = await page.$$eval('.log-lines pre', (rows) => rows.map((r) => r.textContent ?? ''));
    // leaf's incoming request and its answer, nothing else.
    expect(texts).toHaveLength(2);
    for (const text of texts) expect(text).toContain(liveId);
    await shoot('logs-live');
  });

  it('lists recent requests failed first, and opens the trace of a pasted request id', async () => {
    await page.locator('button[data-panel="traces"]').click();
    await page.locator('[data-request-id]').first().waitFor();
    expect(await page.locator('[data-request-id]').first().getAttribute('data-request-id')).toBe(
      failedRequestId,
    );

    // Pasted, as from an error answer's x-request-id: the paste alone opens it.
    await page.locator('[data-testid="trace-id"]').evaluate((input, id) => {
      const data = new DataTransfer();
      data.setData('text/plain', id);
      input.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, failedRequestId);
    await page.locator(`[data-testid="trace"][data-request="${failedRequestId}"]`).waitFor();
    const hops = await page.$$eval('[data-hop]', (rows) => rows.map((r) => r.getAttribute('data-hop')));
    expect(hops).toEqual(['edge', 'mid', 'leaf']);
    expect(await page.locator('tr[data-hop="leaf"] td[data-field="status"]').textContent()).toBe('500');
    expect(
      await page.locator('[data-hop-error="leaf"] [data-testid="error-location"]').textContent(),
    ).toMatch(/services\/orders\/src\/routes\/items\.ts:\d+/);
    await shoot('trace');

    // A link to the trace (#trace=<id>, which the page keeps in its address) opens it too.
    expect(page.url()).toContain(`#trace=${failedRequestId}`);
    const linked = await page.context().newPage();
    try {
      await linked.goto(page.url());
      await linked.locator(`[data-testid="trace"][data-request="${failedRequestId}"]`).waitFor();
    } finally {
      await linked.close();
    }
  });

  it('shows diagnose findings, root cause first, with the next command', async () => {
    // The failure of the first request is history since leaf's restart: fail one again.
    expect((await fetch(stack.url('edge', '/orders/999'))).status).toBe(502);
    await page.locator('button[data-panel="findings"]').click();
    await page.locator('li[data-finding]').first().waitFor({ timeout: 60_000 });
    const first = page.locator('li[data-finding]').first();
    expect(await first.textContent()).toContain('root cause');
    expect(await first.textContent()).toContain('leaf');
    expect(await first.locator('[data-testid="next-command"]').textContent()).not.toBe('');
    await shoot('findings');
  });
});
