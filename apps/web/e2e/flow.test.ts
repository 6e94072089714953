// The whole product flow in a real browser through the real backends: the seven built services as
// processes on free ports (startStack), the Vite dev server proxying /api to that gateway, and
// Debian's Chromium. Needs the services built: `npx turbo run build` (turbo's `test` does it).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningStack, startStack } from '@repo/test-utils';
import type { Page } from 'playwright-core';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { launchChromium, type RunningChromium } from './chromium';
import { type RunningVite, startVite } from './vite-server';

// Set E2E_SCREENSHOT_DIR to keep a picture of every page the flow visits.
const screenshotDir = process.env.E2E_SCREENSHOT_DIR;
const EMAIL_WAIT_MS = 60_000;

let stack: RunningStack | undefined;
let vite: RunningVite | undefined;
let chrome: RunningChromium | undefined;

beforeAll(async () => {
  // Generous: seven Node processes start slowly on a loaded two-core machine. Each call between them
  // may wait 30 s instead of 5 (a bound, not a timing): inside the whole `pnpm test`, a sign-up
  // (an scrypt hash at the production cost) once took auth-service past the gateway's 5 s.
  stack = await startStack({ healthTimeoutMs: 120_000, env: { UPSTREAM_TIMEOUT_MS: '30000' } });
  vite = await startVite({ gatewayUrl: stack.gatewayUrl });
  chrome = await launchChromium();
});

afterAll(async () => {
  // Each step on its own, so one failure does not leave the others running.
  await chrome?.close().catch((error) => console.error('closing Chromium:', error));
  await vite?.stop().catch((error) => console.error('stopping vite:', error));
  await stack?.stop().catch((error) => console.error('stopping the stack:', error));
});

async function shoot(page: Page, name: string): Promise<void> {
  if (!screenshotDir) return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Everything the processes said, for a failure message. */
function evidence(): string {
  if (!stack || !vite) return '';
  const logs = [
    'api-gateway',
    'auth-service',
    'data-service',
    'form-service',
    'worker-service',
    'email-service',
  ]
    .map((name) => `--- ${name} ---\n${stack?.logs(name).slice(-2000)}`)
    .join('\n');
  return `\n${logs}\n--- vite ---\n${vite.process.output().slice(-2000)}`;
}

function outboxFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.eml')) : [];
}

describe('the frontend against the real backends', () => {
  it('signs up, creates a form, fills it in through its public link, shows the submission, and the owner gets the email', async () => {
    if (!stack || !vite || !chrome) throw new Error('setup failed');
    const unique = `${Date.now().toString(36)}${process.pid}`;
    const owner = `owner-${unique}@example.com`;
    const title = `RSVP ${unique}`;

    const ownerContext = await chrome.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await ownerContext.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A step that times out says only what it waited for: print what the page showed instead and
    // what each service logged (a bench run once waited 30 s for "My forms" after Sign up).
    onTestFailed(async () => {
      const shown = await page
        .locator('body')
        .textContent({ timeout: 2000 })
        .catch((error) => `(${error})`);
      console.error(`the page (${page.url()}) showed:\n${(shown ?? '').slice(0, 2000)}${evidence()}`);
    });

    // Sign up: the app stores the token and goes to "My forms".
    await page.goto(`${vite.url}/signup`);
    await page.getByLabel('Email').fill(owner);
    await page.getByLabel('Password').fill('correct horse battery');
    await shoot(page, '1-signup');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'My forms' }).waitFor();
    await page.getByTestId('current-user').filter({ hasText: owner }).waitFor();

    // Create a form with every field type.
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Label of field 1').fill('Your name');
    await page.getByLabel('Field 1 is required').check();
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Label of field 2').fill('Email');
    await page.getByLabel('Type of field 2').selectOption('email');
    await page.getByLabel('Field 2 is required').check();
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Label of field 3').fill('Guests');
    await page.getByLabel('Type of field 3').selectOption('number');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Label of field 4').fill('Meal');
    await page.getByLabel('Type of field 4').selectOption('choice');
    await page.getByLabel('Options of field 4').fill('Vegetarian, Fish');
    await shoot(page, '2-builder');
    await page.getByRole('button', { name: 'Create form' }).click();
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title }) });
    await card.waitFor();
    await shoot(page, '3-my-forms');
    const publicPath = await card.getByRole('link', { name: 'Public link' }).getAttribute('href');
    expect(publicPath).toMatch(/^\/f\/[\w-]+$/);

    // A visitor without an account opens the public link.
    const visitorContext = await chrome.browser.newContext({ viewport: { width: 900, height: 900 } });
    const visitor = await visitorContext.newPage();
    visitor.on('pageerror', (error) => pageErrors.push(error.message));
    await visitor.goto(`${vite.url}${publicPath}`);
    await visitor.getByRole('heading', { name: title }).waitFor();
    // Required fields are checked before anything is sent.
    await visitor.getByRole('button', { name: 'Submit' }).click();
    await visitor.getByText('This field is required.').first().waitFor();
    await shoot(visitor, '4-public-form-invalid');
    await visitor.getByLabel('Your name').fill('Ada Lovelace');
    await visitor.getByLabel('Email').fill('ada@example.com');
    await visitor.getByLabel('Guests').fill('2');
    await visitor.getByLabel('Meal').selectOption('Fish');
    await visitor.getByRole('button', { name: 'Submit' }).click();
    await visitor.getByRole('status').filter({ hasText: 'Your answers were sent' }).waitFor();
    await shoot(visitor, '5-public-form-sent');

    // The owner sees it in the submissions of the form.
    await card.getByRole('link', { name: 'Submissions' }).click();
    await page.getByRole('heading', { name: `Submissions of “${title}”` }).waitFor();
    const row = page.getByRole('table', { name: 'Submissions' }).getByRole('row').nth(1);
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(1)).toEqual(['Ada Lovelace', 'ada@example.com', '2', 'Fish']);
    await shoot(page, '6-submissions');

    // The status page shows every backend healthy.
    await page.getByRole('link', { name: 'Status' }).click();
    const health = page.getByRole('table', { name: 'Service health' });
    await health.waitFor();
    for (const { name } of stack.services) {
      const status = health.locator(`tr[data-service="${name}"] .badge`);
      expect(await status.textContent(), `${name} on the status page`).toBe('ok');
    }
    await shoot(page, '7-status');

    // The confirmation email reaches the outbox, addressed to the owner, its subject naming the form.
    const deadline = Date.now() + EMAIL_WAIT_MS;
    let files = outboxFiles(stack.outboxDir);
    while (files.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      files = outboxFiles(stack.outboxDir);
    }
    expect(files, `no .eml in ${stack.outboxDir} within ${EMAIL_WAIT_MS} ms${evidence()}`).toHaveLength(1);
    const eml = readFileSync(join(stack.outboxDir, files[0] as string), 'utf8');
    const email = await PostalMime.parse(eml);
    expect(email.to?.map((address) => address.address)).toEqual([owner]);
    expect(email.subject, eml.slice(0, 800)).toContain(title);

    expect(pageErrors).toEqual([]);
  });
});
