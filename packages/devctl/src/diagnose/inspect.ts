// Where a service that does not answer is stuck. Two looks, both only for a process whose /health
// got no answer at all:
// - its CPU, from /proc over a short window: a main thread at or near one core is a loop that
//   never yields; one near zero waits on something that never comes;
// - for a busy one, the JavaScript stack it runs: SIGUSR1 opens Node's inspector (it opens even
//   while the loop is busy: the inspector has its own thread), a CDP client pauses it, reads the
//   top call frames, maps them through the bundle's source map to the TypeScript line, resumes,
//   and closes the inspector again. Bounded in time; the inspector is never left open by us.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire, SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CLOCK_TICKS_PER_SECOND,
  cpuTimes,
  executable,
  listeningPorts,
  listeningSockets,
  socketInodesOf,
} from '../ports/processes';

export interface CpuUse {
  pid: number;
  windowMs: number;
  /** Share of one core the main (JavaScript) thread used over the window: 1 = a full core. */
  mainThread: number;
  /** The same for the whole process (every thread: GC, libuv's pool). */
  process: number;
  /** How many of the state samples found the main thread running or runnable (R). */
  runnable: number;
  samples: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU use of `pid` over `windowMs`, with the main thread's state sampled every 50 ms. */
export async function sampleCpu(pid: number, windowMs = 500): Promise<CpuUse | undefined> {
  const first = cpuTimes(pid);
  if (!first) return undefined;
  const started = performance.now();
  let runnable = first.state === 'R' ? 1 : 0;
  let samples = 1;
  let last = first;
  while (performance.now() - started < windowMs) {
    await sleep(50);
    const now = cpuTimes(pid);
    if (!now) return undefined;
    samples++;
    if (now.state === 'R') runnable++;
    last = now;
  }
  const seconds = (performance.now() - started) / 1000;
  const share = (ticks: number) => ticks / CLOCK_TICKS_PER_SECOND / seconds;
  return {
    pid,
    windowMs: Math.round(seconds * 1000),
    mainThread: share(last.mainThread - first.mainThread),
    process: share(last.process - first.process),
    runnable,
    samples,
  };
}

/**
 * A main thread that waits: almost no CPU and asleep in nearly every look. Anything else that does
 * not answer is running JavaScript (at or near a core, or, on a machine whose cores are all taken,
 * less than a core but runnable in every look), and its stack says what.
 */
export function isIdle(cpu: CpuUse): boolean {
  return cpu.mainThread < 0.1 && cpu.runnable <= 0.2 * cpu.samples;
}

export interface StackFrame {
  functionName: string;
  /** Repository-relative TypeScript file when the source map names one, else the script's path or URL. */
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  /** In the project's own source: under the root, not in node_modules, not Node's internals. */
  own: boolean;
}

export type StuckStack = ({ frames: StackFrame[]; port: number } | { error: string }) & {
  /** The port of an inspector we opened and could not close again (the process ignored it). */
  inspectorLeftOpen?: number;
};

export interface InspectOptions {
  /** Repository root: files are named relative to it. */
  root: string;
  /** The service's own port, never taken for the inspector's. */
  servicePort?: number;
  /** Everything (opening, connecting, pausing, closing) within this (default 4000 ms). */
  timeoutMs?: number;
  /** Frames read from the top of the stack (default 8). */
  maxFrames?: number;
}

const DEFAULT_INSPECTOR_PORT = 9229;

function httpJson(port: number, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolveJson, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        try {
          resolveJson(JSON.parse(text));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The WebSocket URL of the inspector target on `port`, or undefined when it is no inspector. */
async function debuggerUrl(port: number, timeoutMs: number): Promise<string | undefined> {
  try {
    const targets = (await httpJson(port, '/json/list', timeoutMs)) as { webSocketDebuggerUrl?: string }[];
    return Array.isArray(targets)
      ? targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The watcher's program: polls the listening ports of the pid (from /proc) for up to two minutes;
 * when a new one answers as an inspector, asks it to close (as closeSession does) and exits.
 */
const CLOSER = String.raw`
const [pid, known, wsPath] = [Number(process.argv[1]), process.argv[2].split(',').filter(Boolean).map(Number), process.argv[3]];
const { readFileSync, readdirSync, readlinkSync } = require('node:fs');
const { get } = require('node:http');
const ports = () => {
  const own = new Set();
  try { for (const fd of readdirSync('/proc/' + pid + '/fd')) { try { const l = readlinkSync('/proc/' + pid + '/fd/' + fd); if (l.startsWith('socket:[')) own.add(l.slice(8, -1)); } catch {} } } catch { process.exit(0); }
  const found = [];
  for (const t of ['/proc/net/tcp', '/proc/net/tcp6']) { let text = ''; try { text = readFileSync(t, 'utf8'); } catch {} for (const line of text.split('\n').slice(1)) { const f = line.trim().split(/\s+/); if (f[3] === '0A' && own.has(f[9])) found.push(parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16)); } }
  return found.filter((p) => !known.includes(p));
};
const url = (port) => new Promise((resolve) => { get({ host: '127.0.0.1', port, path: '/json/list', timeout: 1000 }, (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => { try { resolve(JSON.parse(b)[0].webSocketDebuggerUrl); } catch { resolve(undefined); } }); }).on('error', () => resolve(undefined)); });
const until = Date.now() + 120000;
const tick = async () => {
  if (Date.now() > until) process.exit(0);
  for (const port of ports()) {
    const target = await url(port);
    if (!target) continue;
    const WebSocket = require(wsPath);
    const socket = new WebSocket(target);
    // A marker, then close(): the marker's answer says the main thread took both (see closeSession).
    socket.on('open', () => { socket.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: '0' } })); socket.send(JSON.stringify({ id: 2, method: 'Runtime.evaluate', params: { expression: "require('node:inspector').close()", includeCommandLineAPI: true } })); });
    socket.on('message', (data) => { if (JSON.parse(String(data)).id === 1) setTimeout(() => { socket.terminate(); process.exit(0); }, 50); });
    socket.on('error', () => process.exit(0));
    return;
  }
  setTimeout(tick, 200);
};
tick();
`;

function closeWhenItOpens(pid: number, knownPorts: number[]): void {
  try {
    const watcher = spawn(
      process.execPath,
      ['-e', CLOSER, String(pid), knownPorts.join(','), createRequire(import.meta.url).resolve('ws')],
      { detached: true, stdio: 'ignore' },
    );
    watcher.unref();
  } catch {
    // nothing more can be done from here; the finding says the inspector may open later
  }
}

/** Why the inspector may not have opened: someone else on the default port. */
function inspectorPortHint(pid: number): string {
  const holders = listeningSockets().get(DEFAULT_INSPECTOR_PORT);
  if (!holders || holders.length === 0) return '';
  if (holders.some((inode) => socketInodesOf(pid).has(inode))) return '';
  return ` (port ${DEFAULT_INSPECTOR_PORT}, where Node opens it unless started with --inspect-port, is held by another process; add --inspect-port=0 to the service's node_args to let it pick a free one)`;
}

interface ScriptInfo {
  url: string;
  sourceMapURL: string;
}

interface CallFrame {
  functionName: string;
  location: { scriptId: string; lineNumber: number; columnNumber: number };
  url?: string;
}

/** Maps generated positions to sources through each script's source map, read once per script. */
class SourceMaps {
  private readonly maps = new Map<string, { map: SourceMap; dir: string } | null>();

  constructor(private readonly root: string) {}

  private load(script: ScriptInfo): { map: SourceMap; dir: string } | null {
    const cached = this.maps.get(script.url);
    if (cached !== undefined) return cached;
    let loaded: { map: SourceMap; dir: string } | null = null;
    try {
      if (script.url.startsWith('file:') && script.sourceMapURL && !script.sourceMapURL.startsWith('data:')) {
        const mapFile = fileURLToPath(new URL(script.sourceMapURL, script.url));
        const payload = JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload;
        loaded = { map: new SourceMap(payload), dir: dirname(mapFile) };
      }
    } catch {
      // no readable map: the generated position is all there is
    }
    this.maps.set(script.url, loaded);
    return loaded;
  }

  frame(call: CallFrame, script: ScriptInfo | undefined): StackFrame {
    const { lineNumber, columnNumber } = call.location;
    const url = script?.url ?? call.url ?? '';
    const functionName = call.functionName || '<anonymous>';
    const mapped = script ? this.load(script) : null;
    const entry = mapped?.map.findEntry(lineNumber, columnNumber) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    let path: string | undefined;
    let line = lineNumber + 1;
    let column = columnNumber + 1;
    if (mapped && entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const source = entry.originalSource.startsWith('file:')
        ? fileURLToPath(entry.originalSource)
        : resolve(mapped.dir, entry.originalSource);
      path = source;
      line = entry.originalLine + 1;
      column = (entry.originalColumn ?? 0) + 1;
    } else if (url.startsWith('file:')) {
      path = fileURLToPath(url);
    }
    if (!path) return { functionName, file: url || '<unknown>', line, column, own: false };
    const fromRoot = relative(this.root, path);
    const inside = fromRoot !== '' && !fromRoot.startsWith('..') && !isAbsolute(fromRoot);
    const own = inside && !/(^|[/\\])(node_modules|dist)[/\\]/.test(fromRoot);
    return { functionName, file: inside ? fromRoot : path, line, column, own };
  }
}

/** A minimal CDP session over one WebSocket. */
class CdpSession {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    (message: { result?: unknown; error?: { message: string } }) => void
  >();
  readonly scripts = new Map<string, ScriptInfo>();
  private pausedWith: ((frames: CallFrame[]) => void) | undefined;
  paused = false;

  constructor(private readonly socket: import('ws').WebSocket) {
    socket.on('message', (data) => {
      let message: { id?: number; method?: string; params?: Record<string, unknown> };
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (message.id !== undefined) {
        this.pending.get(message.id)?.(message as never);
        this.pending.delete(message.id);
      } else if (message.method === 'Debugger.scriptParsed') {
        const params = message.params as { scriptId: string; url: string; sourceMapURL?: string };
        this.scripts.set(params.scriptId, { url: params.url, sourceMapURL: params.sourceMapURL ?? '' });
      } else if (message.method === 'Debugger.paused') {
        this.paused = true;
        this.pausedWith?.((message.params as { callFrames: CallFrame[] }).callFrames);
      } else if (message.method === 'Debugger.resumed') {
        this.paused = false;
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolveSend, reject) => {
      this.pending.set(id, (message) =>
        message.error
          ? reject(new Error(`${method}: ${message.error.message}`))
          : resolveSend(message.result),
      );
      this.socket.send(JSON.stringify({ id, method, params }), (error) => {
        if (error) {
          this.pending.delete(id);
          reject(error);
        }
      });
    });
  }

  /** Fire and forget (for a call whose answer may never come, such as closing the inspector). */
  post(method: string, params: Record<string, unknown> = {}): void {
    this.socket.send(JSON.stringify({ id: this.nextId++, method, params }));
  }

  nextPause(): Promise<CallFrame[]> {
    return new Promise((resolvePause) => {
      this.pausedWith = resolvePause;
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** True for a Node process: SIGUSR1 would end any other one (its default action). */
function isNode(pid: number): boolean {
  const exe = executable(pid) ?? '';
  return exe === process.execPath || /(^|\/)node(js)?[\d.]*$/.test(exe);
}

/**
 * The JavaScript stack `pid` is running now, source-mapped. Opens the inspector with SIGUSR1 when
 * it is not open yet and closes it again afterwards; an inspector that was already open (someone
 * debugging) is left as it was.
 */
export async function readStuckStack(pid: number, options: InspectOptions): Promise<StuckStack> {
  const deadline = performance.now() + (options.timeoutMs ?? 4000);
  const left = () => Math.max(0, deadline - performance.now());
  if (!isNode(pid)) return { error: `pid ${pid} is not a Node process` };
  const before = listeningPorts(pid).filter((port) => port !== options.servicePort);

  // Already open (started with --inspect): use it, and leave it open.
  let port: number | undefined;
  let url: string | undefined;
  for (const candidate of before) {
    url = await debuggerUrl(candidate, Math.min(300, left()));
    if (url) {
      port = candidate;
      break;
    }
  }
  const openedByUs = url === undefined;
  if (openedByUs) {
    try {
      process.kill(pid, 'SIGUSR1');
    } catch (error) {
      return { error: `could not signal pid ${pid}: ${(error as Error).message}` };
    }
    while (url === undefined && left() > 0) {
      await sleep(50);
      const opened = listeningPorts(pid).filter((p) => p !== options.servicePort && !before.includes(p));
      for (const candidate of opened) {
        url = await debuggerUrl(candidate, Math.min(500, left()));
        if (url) {
          port = candidate;
          break;
        }
      }
    }
    if (url === undefined || port === undefined) {
      const hint = inspectorPortHint(pid);
      if (hint) return { error: `its inspector did not open after SIGUSR1${hint}` };
      // Node opens it on the main thread, between two JavaScript steps: a thread inside one long
      // native call (crypto/zlib/fs *Sync, an addon) opens it only when that call returns, after
      // we are gone. Someone must close it then: a detached watcher does.
      closeWhenItOpens(pid, [...before, ...(options.servicePort ? [options.servicePort] : [])]);
      return {
        error:
          'its inspector did not open after SIGUSR1: the main thread is busy outside JavaScript (a long synchronous native call such as crypto, zlib or fs *Sync, or an addon); a watcher closes the inspector when it opens',
      };
    }
  }

  const result = await pausedFrames(url as string, port as number, openedByUs, options, left);
  // inspector.close() runs on the main thread: one blocked in a native call (not JavaScript) takes
  // it only later, or never. Check, ask once more, and say so when it stays open.
  if (openedByUs && !(await portClosed(pid, port as number, 1000))) {
    await pausedFrames(url as string, port as number, true, { ...options, maxFrames: 0 }, () => 1000, false);
    if (!(await portClosed(pid, port as number, 1000))) result.inspectorLeftOpen = port;
  }
  return result;
}

async function portClosed(pid: number, port: number, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (!listeningPorts(pid).includes(port)) return true;
    if (performance.now() > until) return false;
    await sleep(50);
  }
}

/** Connects, pauses (unless `pause` is false), reads the frames, and closes the session again. */
async function pausedFrames(
  url: string,
  port: number,
  closeInspector: boolean,
  options: InspectOptions,
  left: () => number,
  pause = true,
): Promise<StuckStack> {
  // Loaded only here, for a stuck process: no other run pays for it.
  const { WebSocket } = createRequire(import.meta.url)('ws') as typeof import('ws');
  const socket = new WebSocket(url, { handshakeTimeout: Math.max(1, Math.min(1000, left())) });
  const session = new CdpSession(socket);
  try {
    await withTimeout(
      new Promise<void>((opened, failed) => {
        socket.once('open', () => opened());
        socket.once('error', failed);
      }),
      left(),
      'connecting to the inspector',
    );
    if (!pause) return { frames: [], port };
    // Debugger.enable announces every script (scriptParsed) before it answers: the id -> URL map.
    await withTimeout(session.send('Debugger.enable'), left(), 'Debugger.enable');
    const paused = session.nextPause();
    await withTimeout(session.send('Debugger.pause'), left(), 'Debugger.pause');
    const callFrames = await withTimeout(paused, left(), 'pausing');
    const maps = new SourceMaps(options.root);
    const frames = callFrames
      .slice(0, options.maxFrames ?? 8)
      .map((call) => maps.frame(call, session.scripts.get(call.location.scriptId)));
    return { frames, port };
  } catch (error) {
    return { error: `the inspector on port ${port} did not give the stack: ${(error as Error).message}` };
  } finally {
    await closeSession(session, socket, closeInspector);
  }
}

/** Resumes, detaches and, when we opened it, closes the inspector: the service runs on as before. */
async function closeSession(
  session: CdpSession,
  socket: import('ws').WebSocket,
  closeInspector: boolean,
): Promise<void> {
  if (socket.readyState === socket.OPEN) {
    try {
      if (session.paused) await withTimeout(session.send('Debugger.resume'), 1000, 'Debugger.resume');
      await withTimeout(session.send('Debugger.disable'), 1000, 'Debugger.disable');
    } catch {
      // closing the socket below detaches the session and resumes the target anyway
    }
    // inspector.close() waits for the sessions to end, ours included: its answer never comes
    // while we are connected. A message still queued when we disconnect is dropped, so it goes
    // out right behind a marker: once the marker's answer is back, the main thread has taken
    // both, and the socket can close (which lets close() finish).
    if (closeInspector) {
      const marker = session.send('Runtime.evaluate', { expression: '0' });
      session.post('Runtime.evaluate', {
        expression: "require('node:inspector').close()",
        includeCommandLineAPI: true,
      });
      await withTimeout(marker, 1000, 'closing the inspector').catch(() => undefined);
      await sleep(50);
    }
  }
  socket.terminate();
}
