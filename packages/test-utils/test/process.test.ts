import { describe, expect, it, onTestFinished } from 'vitest';
import { childPids, isAlive, killTree, processTree, spawnProcess } from '../src/index';

// A parent that starts two grandchildren which ignore SIGTERM, so killTree must find them by PID
// and escalate to SIGKILL.
const PARENT = `
const { spawn } = require('node:child_process');
const stubborn = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('child ' + process.pid);";
for (let i = 0; i < 2; i++) spawn(process.execPath, ['-e', stubborn], { stdio: 'inherit' });
setInterval(() => {}, 1000);
`;

describe('killTree', () => {
  it('kills a process and every descendant by PID, including ones that ignore SIGTERM', async () => {
    const parent = spawnProcess(process.execPath, ['-e', PARENT], { name: 'tree-parent' });
    onTestFinished(() => parent.kill('SIGKILL'));
    await parent.waitForOutput(/child \d+[\s\S]*child \d+/);
    const tree = processTree(parent.pid);
    expect(tree[0]).toBe(parent.pid);
    expect(childPids(parent.pid)).toHaveLength(2);
    expect(tree).toHaveLength(3);

    const killed = await killTree(parent.pid, 'SIGTERM', { graceMs: 500 });

    expect(new Set(killed)).toEqual(new Set(tree));
    for (const pid of tree) expect(isAlive(pid), `pid ${pid} still alive`).toBe(false);
    const { signal } = await parent.exited;
    expect(signal).toBe('SIGTERM');
  });

  it('spawnProcess captures stdout and stderr and reports the exit code', async () => {
    const child = spawnProcess(process.execPath, [
      '-e',
      'console.log("out"); console.error("err"); process.exit(3)',
    ]);
    const { code } = await child.exited;
    expect(code).toBe(3);
    expect(child.output()).toContain('out');
    expect(child.output()).toContain('err');
  });
});
