// Hot module reload, proven in a real browser: with the Vite dev server running, a component's text
// changes on disk and the page shows it without reloading, its state kept. The dev server runs on a
// copy of the app (inside apps/web, so node_modules resolve; git-ignored), so the test never edits
// the real sources and a developer's own `pnpm dev` sees nothing of it. It edits the status page,
// which every project has (`devctl init --no-samples` keeps it and drops the forms pages).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type RunningChromium } from './chromium';
import { type RunningVite, startVite, webDir } from './vite-server';

let copyDir: string;
let vite: RunningVite | undefined;
let chrome: RunningChromium | undefined;
/**
 * Stands in for api-gateway's GET /api/health: one backend while `gatewayUp`, then 503. A page that
 * kept its state still shows the backend after the edit; a remounted page would have lost it.
 */
let gateway: Server;
let gatewayUp = true;

beforeAll(async () => {
  copyDir = mkdtempSync(join(webDir, '.hmr-test-'));
  for (const entry of ['index.html', 'package.json', 'vite.config.ts', 'src']) {
    cpSync(join(webDir, entry), join(copyDir, entry), { recursive: true });
  }
  // One folder deeper: the app's own tsconfig, by a path that still resolves from here.
  writeFileSync(join(copyDir, 'tsconfig.json'), '{ "extends": "../tsconfig.json" }\n');
  gateway = createServer((_request, response) => {
    const [status, body] = gatewayUp
      ? [200, { services: { 'probe-service': { status: 'ok', latencyMs: 1 } } }]
      : [503, { message: 'the gateway went away for this test' }];
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  vite = await startVite({
    root: copyDir,
    gatewayUrl: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
  });
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.close().catch((error) => console.error('closing Chromium:', error));
  await vite?.stop().catch((error) => console.error('stopping vite:', error));
  await new Promise((resolve) => gateway?.close(resolve));
  if (copyDir) rmSync(copyDir, { recursive: true, force: true });
});

describe('hot module reload', () => {
  it('shows a component edited on disk without a reload, keeping the state the page had', async () => {
    if (!vite || !chrome) throw new Error('setup failed');
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    let loads = 0;
    page.on('load', () => {
      loads += 1;
    });
    const browserErrors: string[] = [];
    page.on('pageerror', (error) => browserErrors.push(error.message));
    page.on('console', (message) => {
      // The 503s asked for below are expected; anything else is evidence.
      if (message.type() === 'error' && !message.text().includes('503')) browserErrors.push(message.text());
    });
    const evidence = () =>
      `\n--- browser errors ---\n${browserErrors.join('\n')}\n--- vite ---\n${vite?.process.output().slice(-3000)}`;
    const probeRow = page.locator('tr[data-service="probe-service"]');

    await page.goto(`${vite.url}/status`);
    await probeRow.waitFor({ timeout: 30_000 }).catch((error: Error) => {
      throw new Error(`the status page did not show the gateway's answer: ${error.message}${evidence()}`);
    });
    expect(loads).toBe(1);
    // State a reload or a remount would lose: the last report loaded (the page keeps it while later
    // refreshes fail, and nothing can load it again), and a value on window.
    gatewayUp = false;
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await page.getByText('The health report could not be loaded').waitFor({ timeout: 30_000 });
    expect(await probeRow.count()).toBe(1);
    await page.evaluate(() => {
      (window as unknown as { hmrMarker: string }).hmrMarker = 'set before the edit';
    });

    const file = join(copyDir, 'src', 'pages', 'StatusPage.tsx');
    const source = readFileSync(file, 'utf8');
    expect(source).toContain('Refresh now');
    writeFileSync(file, source.replace('Refresh now', 'Check again'));

    await page
      .getByRole('button', { name: 'Check again' })
      .waitFor({ timeout: 30_000 })
      .catch((error: Error) => {
        throw new Error(`the edit did not reach the page: ${error.message}${evidence()}`);
      });
    expect(await page.getByRole('button', { name: 'Refresh now' }).count()).toBe(0);
    expect(await probeRow.count(), 'the report loaded before the edit').toBe(1);
    expect(await page.evaluate(() => (window as unknown as { hmrMarker?: string }).hmrMarker)).toBe(
      'set before the edit',
    );
    expect(loads).toBe(1);
    // Vite itself says it sent a hot update for that file, not a full reload.
    await vite.process.waitForOutput(/hmr update .*StatusPage\.tsx/, 10_000);
    expect(vite.process.output()).not.toMatch(/page reload/);
  });
});
