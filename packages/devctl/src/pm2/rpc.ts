// A client for the PM2 daemon's RPC socket ($PM2_HOME/rpc.sock), speaking the daemon's own wire
// format: axon "req" messages framed with AMP (https://github.com/visionmedia/node-amp).
//
// Why not load PM2's bundled pm2-axon/pm2-axon-rpc: they pull in `debug` and friends and cost
// ~70 ms to load on this machine, more than a whole `devctl status` may take. The format is small
// and fixed: a message is one meta byte (version << 4 | argument count), then per argument a
// 32-bit big-endian length and the bytes; an argument is `s:<utf8>` (string) or `j:<json>`.
// A request is [{type: 'call', method, args}, '<identity>:<n>']; the reply is
// [{args} | {error, stack}, '<identity>:<n>']. test/status-rpc.test.ts checks this codec against the
// `amp-message` package PM2 itself uses.
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

const AMP_VERSION = 1;

/** Encodes one AMP message whose arguments are strings (`s:`) or JSON values (`j:`). */
export function encodeMessage(args: unknown[]): Buffer {
  if (args.length > 15) throw new Error('an AMP message holds at most 15 arguments');
  const parts = args.map((arg) =>
    Buffer.from(typeof arg === 'string' ? `s:${arg}` : `j:${JSON.stringify(arg ?? null)}`, 'utf8'),
  );
  const header = Buffer.alloc(1);
  header[0] = (AMP_VERSION << 4) | parts.length;
  const chunks: Buffer[] = [header];
  for (const part of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length, 0);
    chunks.push(length, part);
  }
  return Buffer.concat(chunks);
}

function decodeArgument(part: Buffer): unknown {
  const tag = part.subarray(0, 2).toString('latin1');
  if (tag === 'j:') return JSON.parse(part.subarray(2).toString('utf8'));
  if (tag === 's:') return part.subarray(2).toString('utf8');
  return part;
}

/**
 * Splits a byte stream into AMP messages. Returns the decoded messages and the unconsumed rest
 * (an incomplete message waits for more bytes).
 */
export function decodeMessages(buffer: Buffer): { messages: unknown[][]; rest: Buffer } {
  const messages: unknown[][] = [];
  let offset = 0;
  for (;;) {
    if (offset >= buffer.length) break;
    const argc = (buffer[offset] as number) & 0x0f;
    let cursor = offset + 1;
    const parts: Buffer[] = [];
    let complete = true;
    for (let i = 0; i < argc; i++) {
      if (cursor + 4 > buffer.length) {
        complete = false;
        break;
      }
      const length = buffer.readUInt32BE(cursor);
      cursor += 4;
      if (cursor + length > buffer.length) {
        complete = false;
        break;
      }
      parts.push(buffer.subarray(cursor, cursor + length));
      cursor += length;
    }
    if (!complete) break;
    messages.push(parts.map(decodeArgument));
    offset = cursor;
  }
  return { messages, rest: buffer.subarray(offset) };
}

/** The PM2 home folder, as PM2 resolves it: $PM2_HOME, else ~/.pm2. */
export function pm2Home(): string {
  if (process.env.PM2_HOME) return process.env.PM2_HOME;
  return join(process.env.HOME || '/etc', '.pm2');
}

export function rpcSocketPath(home = pm2Home()): string {
  return process.env.PM2_DAEMON_RPC_PORT || join(home, 'rpc.sock');
}

/** An error the daemon returned for a call (as opposed to a connection failure). */
export class DaemonCallError extends Error {
  override name = 'DaemonCallError';
  constructor(
    readonly method: string,
    message: string,
    readonly remoteStack?: string,
  ) {
    super(`PM2 daemon: ${method} failed: ${message}`);
  }
}

type Pending = { method: string; resolve: (value: unknown[]) => void; reject: (error: Error) => void };

/** One open connection to the daemon's RPC socket. Close it when done (in a `finally`). */
export class DaemonConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  private readonly identity = String(process.pid);

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('the PM2 daemon closed the connection')));
  }

  /** Calls an RPC method exposed by PM2's Daemon.js; resolves with the callback's results. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return this.callAll(method, ...args).then((results) => results[0] as T);
  }

  /** Like `call`, but resolves with every value the daemon passed to its callback. */
  callAll(method: string, ...args: unknown[]): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error('the connection to the PM2 daemon is closed'));
    const id = `${this.identity}:${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.socket.write(encodeMessage([{ type: 'call', method, args }, id]));
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.failAll(new Error('the connection to the PM2 daemon was closed before the answer came'));
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const { messages, rest } = decodeMessages(this.buffered);
    this.buffered = rest;
    for (const message of messages) {
      const id = message[message.length - 1];
      const reply = message[0] as { args?: unknown[]; error?: unknown; stack?: string } | null;
      const waiting = typeof id === 'string' ? this.pending.get(id) : undefined;
      if (!waiting) continue;
      this.pending.delete(id as string);
      if (reply && 'error' in reply && reply.error !== undefined && reply.error !== null) {
        const text = typeof reply.error === 'string' ? reply.error : JSON.stringify(reply.error);
        waiting.reject(new DaemonCallError(waiting.method, text, reply.stack));
      } else {
        waiting.resolve(reply?.args ?? []);
      }
    }
  }

  private failAll(error: Error): void {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(error);
    }
  }
}

/**
 * Opens a connection to the daemon, or resolves null when no daemon listens on the socket (missing
 * socket file or connection refused). Never starts a daemon.
 */
export function connectDaemon(socketPath = rpcSocketPath()): Promise<DaemonConnection | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.setNoDelay(true);
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(null);
      else reject(new Error(`cannot reach the PM2 daemon at ${socketPath}: ${error.message}`));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(new DaemonConnection(socket));
    });
  });
}
