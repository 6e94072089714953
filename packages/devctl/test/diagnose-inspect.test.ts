// Reading where a Node process is stuck, on real processes (no PM2): its CPU from /proc, and the
// stack of a busy loop through the inspector, source-mapped to the TypeScript line, with the
// inspector closed again when we opened it and left alone when it was open already. Each test ends
// the processes it started.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { type SpawnedProcess, spawnProcess, type TempDir, tempDir } from '@repo/test-utils';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isIdle, readStuckStack, sampleCpu } from '../src/diagnose/inspect';
import { cpuTimes, listeningPorts } from '../src/ports/processes';

const SOURCE = `// A queue drained by a loop that never advances.
const queue = [1, 2, 3];

function weigh(item: number): number {
  return item * 2;
}

export function drain(): number {
  let index = 0;
  let weight = 0;
  while (index < queue.length) {
    weight += weigh(queue[index] ?? 0);
  }
  return weight;
}

console.log('spinning');
setTimeout(drain, 50);
`;

let dir: TempDir;
let script: string;
const started: SpawnedProcess[] = [];

/**
 * Starts a process for the current test and kills it (by PID) when the test ends: a busy loop left
 * running to the end of the file burns a whole core for every test after its own.
 */
function startForTest(...args: Parameters<typeof spawnProcess>): SpawnedProcess {
  const child = spawnProcess(...args);
  started.push(child);
  onTestFinished(async () => {
    await child.kill('SIGKILL');
    started.splice(started.indexOf(child), 1);
  });
  return child;
}

/** A node running the bundle, busy once it printed "spinning". */
async function spin(...nodeArgs: string[]): Promise<SpawnedProcess> {
  const child = startForTest(process.execPath, [...nodeArgs, script], { cwd: dir.path, name: 'spin' });
  await child.waitForOutput('spinning');
  const busySince = cpuTimes(child.pid)?.mainThread ?? 0;
  // Wait on the condition (CPU used), not a duration.
  for (let i = 0; i < 100 && (cpuTimes(child.pid)?.mainThread ?? 0) - busySince < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

/** True once the main thread has used 50 ms more CPU (a paused process never does), within 10 s. */
const keepsRunning = async (pid: number) => {
  const before = cpuTimes(pid)?.mainThread ?? 0;
  for (let i = 0; i < 100; i++) {
    if ((cpuTimes(pid)?.mainThread ?? 0) - before >= 5) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
};

beforeAll(async () => {
  dir = tempDir('devctl-inspect-');
  mkdirSync(join(dir.path, 'src'));
  writeFileSync(join(dir.path, 'src', 'drain.ts'), SOURCE);
  await build({
    absWorkingDir: dir.path,
    entryPoints: ['src/drain.ts'],
    outfile: 'dist/drain.js',
    bundle: true,
    platform: 'node',
    format: 'esm',
    sourcemap: true,
    logLevel: 'error',
  });
  script = join(dir.path, 'dist', 'drain.js');
});

afterAll(async () => {
  for (const child of started) await child.kill('SIGKILL');
  dir?.cleanup();
});

const loopLine = SOURCE.split('\n').findIndex((line) => line.includes('while (index')) + 1;
const weighLine = SOURCE.split('\n').findIndex((line) => line.includes('return item * 2')) + 1;

describe('readStuckStack', () => {
  it('gives the TypeScript line of a busy loop, then closes the inspector it opened', async () => {
    const child = await spin('--inspect-port=0');
    const stack = await readStuckStack(child.pid, { root: dir.path });
    if ('error' in stack) throw new Error(stack.error);
    const top = stack.frames.find((frame) => frame.own);
    expect(top?.file).toBe('src/drain.ts');
    expect([loopLine, loopLine + 1, weighLine]).toContain(top?.line);
    expect(stack.frames.map((frame) => frame.functionName)).toContain('drain');
    // Closed again (the process listened on nothing before), and resumed: still at work.
    for (let i = 0; i < 50 && listeningPorts(child.pid).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listeningPorts(child.pid)).toEqual([]);
    expect(await keepsRunning(child.pid)).toBe(true);
    expect(child.output()).toMatch(/Debugger listening on ws:\/\/127\.0\.0\.1:\d+/);
  });

  it('leaves an inspector that was open already (someone debugging) open', async () => {
    const child = await spin('--inspect=127.0.0.1:0');
    const [port] = listeningPorts(child.pid);
    expect(port).toBeDefined();
    const stack = await readStuckStack(child.pid, { root: dir.path });
    if ('error' in stack) throw new Error(stack.error);
    expect(stack.port).toBe(port);
    expect(stack.frames.find((frame) => frame.own)?.file).toBe('src/drain.ts');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listeningPorts(child.pid)).toEqual([port]);
  });

  it('says why when the inspector cannot open: port 9229 held by another process', async () => {
    // Hold 9229 unless someone else already does: either way another process has it.
    const holder: Server = createServer();
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve());
      holder.listen(9229, '127.0.0.1', () => resolve());
    });
    try {
      const child = await spin();
      const stack = await readStuckStack(child.pid, { root: dir.path, timeoutMs: 1500 });
      expect(stack).toEqual({
        error: expect.stringMatching(
          /^its inspector did not open after SIGUSR1 \(port 9229, .* is held by another process; add --inspect-port=0/,
        ),
      });
    } finally {
      holder.close();
    }
  });

  it('a thread inside a long native call: says so, and the inspector opening later is closed', async () => {
    writeFileSync(
      join(dir.path, 'hash.mjs'),
      // One synchronous native call after another to the end of the test, as a thread stuck in
      // crypto, zlib or fs *Sync is, but each one waits on a child (spawnSync of `sleep`) instead of
      // hashing: the main thread is just as unable to run JavaScript, and no core burns for the
      // test's ~20 s (a pbkdf2Sync loop did: ~20 CPU-s). A loop that stopped once its inspector had
      // opened and closed again failed in CI: the inspector was found open at the end.
      `import { execFileSync } from 'node:child_process';
console.log('hashing');
setTimeout(() => { for (;;) execFileSync('sleep', ['2']); }, 50);
`,
    );
    const child = startForTest(process.execPath, ['--inspect-port=0', join(dir.path, 'hash.mjs')], {
      name: 'hash',
    });
    await child.waitForOutput('hashing');
    const stack = await readStuckStack(child.pid, { root: dir.path, timeoutMs: 300 });
    // Between two native calls the thread runs JavaScript for an instant: the inspector may open
    // there and then get no answer to Debugger.enable. Either way: no stack, a reason, no hang.
    // When the inspector opened too late to be closed by diagnose, the answer says so
    // (`inspectorLeftOpen`) and the watcher closes it: checked below.
    expect(stack).toMatchObject({
      error: expect.stringMatching(/the main thread is busy outside JavaScript|did not give the stack/),
    });
    expect(stack).not.toHaveProperty('frames');
    // Node opens the inspector once the call returns; the watcher diagnose left closes it.
    // Node prints that line once its inspector's socket is bound: from then on the port is listed
    // until someone closes it.
    await child.waitForOutput('Debugger listening', 60_000);
    for (let i = 0; i < 300 && listeningPorts(child.pid).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listeningPorts(child.pid)).toEqual([]);
  }, 90_000);

  it('never signals a process that is not Node (SIGUSR1 would end it)', async () => {
    const sleeper = startForTest('sleep', ['30'], { name: 'sleep' });
    const stack = await readStuckStack(sleeper.pid, { root: dir.path, timeoutMs: 1000 });
    expect(stack).toEqual({ error: `pid ${sleeper.pid} is not a Node process` });
    expect(cpuTimes(sleeper.pid)).toBeDefined();
  });
});

describe('sampleCpu', () => {
  it('tells a busy loop from a process that waits', async () => {
    const busy = await spin('--inspect-port=0');
    const idle = startForTest(
      process.execPath,
      // Says it waits only once its start-up is over (a timer fires after Node's bootstrap), so a
      // loaded machine's late start-up work is not sampled as the waiting process's CPU.
      ['-e', 'setTimeout(() => console.log("waiting"), 700); setInterval(() => {}, 1000)'],
      {
        name: 'idle',
      },
    );
    await idle.waitForOutput('waiting');
    const [busyCpu, idleCpu] = await Promise.all([sampleCpu(busy.pid, 500), sampleCpu(idle.pid, 500)]);
    expect(busyCpu && isIdle(busyCpu)).toBe(false);
    expect(busyCpu?.runnable).toBeGreaterThan(0);
    // On a loaded machine one window can catch the waiting process being scheduled late (CI ran
    // this beside three other test files): it is idle in at least one of three windows, and the
    // busy loop in none.
    const idleWindows = [idleCpu];
    for (let i = 0; i < 2 && !idleWindows.some((cpu) => cpu && isIdle(cpu)); i++)
      idleWindows.push(await sampleCpu(idle.pid, 500));
    expect(
      idleWindows.some((cpu) => cpu && isIdle(cpu)),
      JSON.stringify(idleWindows),
    ).toBe(true);
    const busyAgain = await sampleCpu(busy.pid, 500);
    expect(busyAgain && isIdle(busyAgain)).toBe(false);
  });
});
