// Debian's Chromium driven by playwright-core over CDP. We start the browser ourselves, so the
// flags are exactly these, the profile is a fresh folder, and the pid is ours to kill: no tool
// ever downloads a browser.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Chromium 156 renders its omnibox popups (plain and AI mode) as WebUI pages and preloads them in a
  // renderer of their own at start-up, even headless, where no omnibox is ever shown: that renderer
  // was the busiest process of an idle browser (~1.5 of ~4 CPU-s in its first 8 s). Pages are not
  // affected; measured: 4.1 -> 2.2 CPU-s per launch (median of pairs, /usr/bin/chromium 156).
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup',
];

export interface RunningChromium {
  browser: Browser;
  pid: number;
  /** Closes the connection, kills the browser by pid, removes its profile. Safe to call twice. */
  close: () => Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function launchChromium(): Promise<RunningChromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's with \`apt-get install -y chromium\` (the root \`pnpm test\` does it: node scripts/test-prerequisites.mjs)`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'web-e2e-chromium-'));
  const child = spawn(
    CHROMIUM_PATH,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    // Its own process group, so the renderer and GPU helpers go with it when we kill -pid.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${CHROMIUM_PATH}`);

  const kill = async () => {
    // The whole group, even when the main process already quit: a helper may outlive it.
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: nothing of it left
    }
    await exited(child);
    await rm(profile, { recursive: true, force: true });
  };

  let browser: Browser;
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(
        () => reject(new Error(`Chromium printed no DevTools endpoint in 30 s:\n${stderr}`)),
        30_000,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited (${signal ?? code}) before listening:\n${stderr}`));
      });
    });
    // Keep reading stderr so a full pipe never blocks the browser.
    child.stderr?.resume();
    browser = await chromium.connectOverCDP(endpoint);
  } catch (error) {
    await kill();
    throw error;
  }

  let closed = false;
  return {
    browser,
    pid,
    close: async () => {
      if (closed) return;
      closed = true;
      // Ask the browser to quit (a connectOverCDP close() only disconnects), give it a moment, then
      // kill its process group whatever happened.
      try {
        const session = await browser.newBrowserCDPSession();
        await session.send('Browser.close');
      } catch {
        // already gone or not answering: the kill below settles it
      }
      await Promise.race([exited(child), new Promise((resolve) => setTimeout(resolve, 3000))]);
      await browser.close().catch(() => {});
      await kill();
    },
  };
}
