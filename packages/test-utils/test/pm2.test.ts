import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { assertNoPm2Daemon, createPm2Home, isAlive, processTree, repoRoot, spawnProcess } from '../src/index';

const PM2_BIN = join(repoRoot(), 'node_modules', 'pm2', 'bin', 'pm2');

describe('createPm2Home', () => {
  it('cleanup() kills the private daemon and its children by PID and removes the folder', async () => {
    const pm2 = createPm2Home();
    onTestFinished(() => pm2.cleanup());
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...pm2.env };
    const ping = spawnProcess(process.execPath, [PM2_BIN, 'ping'], { env, name: 'pm2 ping' });
    expect((await ping.exited).code, ping.output()).toBe(0);
    // A real app under the daemon, so cleanup must take a child down too.
    const start = spawnProcess(
      process.execPath,
      [PM2_BIN, 'start', process.execPath, '--name', 'sleeper', '--', '-e', 'setInterval(() => {}, 1000)'],
      { env, name: 'pm2 start' },
    );
    expect((await start.exited).code, start.output()).toBe(0);

    const daemon = pm2.daemonPid();
    expect(daemon).toBeGreaterThan(0);
    const tree = processTree(daemon as number);
    expect(tree.length).toBeGreaterThanOrEqual(2);
    expect(() => assertNoPm2Daemon(pm2.home)).toThrow(/still running/);

    await pm2.cleanup();

    for (const pid of tree) expect(isAlive(pid), `pid ${pid} still alive`).toBe(false);
    expect(existsSync(pm2.home)).toBe(false);
  });
});
