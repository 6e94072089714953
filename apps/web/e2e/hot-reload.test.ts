// Hot module reload, proven in a real browser: with the Vite dev server running, a component's text
// changes on disk and the page shows it without reloading, its state kept. The dev server runs on a
// copy of the app (inside apps/web, so node_modules resolve; git-ignored), so the test never edits
// the real sources and a developer's own `pnpm dev` sees nothing of it.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type RunningChromium } from './chromium';
import { type RunningVite, startVite, webDir } from './vite-server';

let copyDir: string;
let vite: RunningVite | undefined;
let chrome: RunningChromium | undefined;

beforeAll(async () => {
  copyDir = mkdtempSync(join(webDir, '.hmr-test-'));
  for (const entry of ['index.html', 'package.json', 'vite.config.ts', 'src']) {
    cpSync(join(webDir, entry), join(copyDir, entry), { recursive: true });
  }
  // One folder deeper: the app's own tsconfig, by a path that still resolves from here.
  writeFileSync(join(copyDir, 'tsconfig.json'), '{ "extends": "../tsconfig.json" }\n');
  // Nothing listens there: the page under test makes no API call that must succeed.
  vite = await startVite({ root: copyDir, gatewayUrl: `http://127.0.0.1:${await freePort()}` });
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.close().catch((error) => console.error('closing Chromium:', error));
  await vite?.stop().catch((error) => console.error('stopping vite:', error));
  if (copyDir) rmSync(copyDir, { recursive: true, force: true });
});

describe('hot module reload', () => {
  it('shows a component edited on disk without a reload, keeping what the user typed', async () => {
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
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    const evidence = () =>
      `\n--- browser errors ---\n${browserErrors.join('\n')}\n--- vite ---\n${vite?.process.output().slice(-3000)}`;

    await page.goto(`${vite.url}/login`);
    await page
      .getByText('No account yet?')
      .waitFor({ timeout: 30_000 })
      .catch((error: Error) => {
        throw new Error(`the login page did not render: ${error.message}${evidence()}`);
      });
    expect(loads).toBe(1);
    // State the reload would lose: what the user typed, and a value on window.
    await page.getByLabel('Email').fill('still-here@example.com');
    await page.evaluate(() => {
      (window as unknown as { hmrMarker: string }).hmrMarker = 'set before the edit';
    });

    const file = join(copyDir, 'src', 'pages', 'AuthPage.tsx');
    const source = readFileSync(file, 'utf8');
    expect(source).toContain('No account yet?');
    writeFileSync(file, source.replace('No account yet?', 'New here?'));

    await page
      .getByText('New here?')
      .waitFor({ timeout: 30_000 })
      .catch((error: Error) => {
        throw new Error(`the edit did not reach the page: ${error.message}${evidence()}`);
      });
    expect(await page.getByText('No account yet?').count()).toBe(0);
    expect(await page.getByLabel('Email').inputValue()).toBe('still-here@example.com');
    expect(await page.evaluate(() => (window as unknown as { hmrMarker?: string }).hmrMarker)).toBe(
      'set before the edit',
    );
    expect(loads).toBe(1);
    // Vite itself says it sent a hot update for that file, not a full reload.
    await vite.process.waitForOutput(/hmr update .*AuthPage\.tsx/, 10_000);
    expect(vite.process.output()).not.toMatch(/page reload/);
  });
});
