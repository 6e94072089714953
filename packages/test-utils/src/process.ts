import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The direct children of `pid`, from /proc (every thread's list), or `ps --ppid` where /proc lacks it. */
export function childPids(pid: number): number[] {
  const children = new Set<number>();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
      for (const word of text.split(/\s+/)) if (word) children.add(Number(word));
    }
    return [...children];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !isAlive(pid)) return [];
  }
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is no child
  }
}

/** `pid` and every descendant, parents before children. */
export function processTree(pid: number): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    if (seen.includes(next)) continue;
    seen.push(next);
    queue.push(...childPids(next));
  }
  return seen;
}

/**
 * True while the process exists and is not a zombie. PID 1 on this kind of machine reaps orphaned
 * zombies only every ~2 s, so a zombie counts as gone: it runs no code and holds no port.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export interface KillTreeOptions {
  /** How long to wait for the tree to exit after `signal` before sending SIGKILL (default 5 s). */
  graceMs?: number;
}

/**
 * Kills `pid` and all its descendants, by PID only (never by name), and resolves once every one of
 * them is gone; what survives `signal` for `graceMs` gets SIGKILL. The tree is read before the
 * first signal, because orphans are re-parented to PID 1 and can no longer be found from `pid`.
 * Returns the PIDs it signalled.
 */
export async function killTree(
  pid: number,
  signal: NodeJS.Signals = 'SIGTERM',
  options: KillTreeOptions = {},
): Promise<number[]> {
  const graceMs = options.graceMs ?? 5000;
  const known = new Set<number>(processTree(pid));
  const collect = () => {
    // Pick up processes forked after the first snapshot (e.g. a daemon restarting a child).
    for (const p of [...known]) if (isAlive(p)) for (const child of processTree(p)) known.add(child);
  };
  const signalled = new Set<number>();
  const signalNew = (sig: NodeJS.Signals) => {
    for (const p of known) {
      if (signalled.has(p)) continue;
      signalled.add(p);
      signalPid(p, sig);
    }
  };
  // The root first (Set order), so a supervisor such as the PM2 daemon does not restart the
  // children we kill.
  signalNew(signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    collect();
    signalNew(signal);
    if (![...known].some(isAlive)) return [...known];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (let round = 0; round < 40; round++) {
    collect();
    const alive = [...known].filter(isAlive);
    if (alive.length === 0) return [...known];
    for (const p of alive) signalPid(p, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const left = [...known].filter(isAlive);
  if (left.length > 0) throw new Error(`killTree(${pid}): still alive after SIGKILL: ${left.join(', ')}`);
  return [...known];
}

/** Synchronous last resort for `process.on('exit')`: SIGKILL the whole tree, no waiting. */
export function killTreeSync(pid: number): void {
  for (const p of processTree(pid)) signalPid(p, 'SIGKILL');
}

export interface SpawnedProcess {
  pid: number;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far, in arrival order. */
  output(): string;
  /** Resolves when the process has exited (never rejects; a spawn error gives code null). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  /** Kills the process and its descendants by PID; resolves when they are gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves when the output matches `pattern`; rejects on exit or after `timeoutMs`, with the output. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
}

export interface SpawnProcessOptions {
  cwd?: string;
  /** The whole environment of the child (not merged with process.env unless you spread it). */
  env?: NodeJS.ProcessEnv;
  /** Shown in error messages. */
  name?: string;
  /** Output kept in memory (default 4 MiB); older output is dropped first. */
  maxOutputBytes?: number;
}

const running = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // If the test runner exits without stopping a child, do not leave it running.
  process.on('exit', () => {
    for (const pid of running) killTreeSync(pid);
  });
}

/** Starts a real process with piped, captured output. */
export function spawnProcess(
  command: string,
  args: string[],
  options: SpawnProcessOptions = {},
): SpawnedProcess {
  const name = options.name ?? `${command} ${args.join(' ')}`;
  const maxOutput = options.maxOutputBytes ?? 4 * 1024 * 1024;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > maxOutput) output = output.slice(output.length - maxOutput);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => {
        hasExited = true;
        resolve({ code: null, signal: null, error });
      });
      child.once('close', (code, signal) => {
        hasExited = true;
        resolve({ code, signal });
      });
    },
  );
  const pid = child.pid ?? -1;
  if (pid > 0) {
    installExitHook();
    running.add(pid);
    void exited.then(() => running.delete(pid));
  }

  return {
    pid,
    child,
    output: () => output,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (pid > 0) await killTree(pid, signal);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    },
    waitForOutput(pattern, timeoutMs = 15_000) {
      const matches = () => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output));
      if (matches()) return Promise.resolve(output);
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(output);
        };
        const check = () => {
          if (matches()) done();
        };
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `${name}: output did not match ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-4000)}`,
              ),
            ),
          timeoutMs,
        );
        listeners.add(check);
        void exited.then(({ code, signal }) => {
          if (!matches())
            done(
              new Error(
                `${name} exited (code ${code}, signal ${signal}) before its output matched ${pattern}; output:\n${output.slice(-4000)}`,
              ),
            );
        });
        if (hasExited) check();
      });
    },
  };
}
