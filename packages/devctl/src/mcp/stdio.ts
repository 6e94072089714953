// Serving over stdio: stdout carries the protocol and nothing else. Whatever else writes to
// process.stdout in this process (a library's console.log, a stray progress line) goes to stderr.
import { Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { killRunningCommands } from './devctl-process';
import { callsSettled } from './result';
import { createMcpServer, type McpServerOptions } from './server';

/** A stream to the real stdout, then process.stdout.write redirected to stderr. */
function claimStdout(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  const protocol = new Writable({
    write(chunk: Buffer, _encoding, done) {
      write(chunk, (error?: Error | null) => done(error ?? null));
    },
  });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return protocol;
}

/** Serves until the client closes stdin (or a signal ends the process). */
export async function serveStdio(options: McpServerOptions): Promise<void> {
  const server = createMcpServer(options);
  const transport = new StdioServerTransport(process.stdin, claimStdout());
  const closed = new Promise<void>((resolve) => {
    let closing = false;
    const close = () => {
      if (closing) return;
      closing = true;
      void server.close().finally(resolve);
    };
    // The client is done asking: answer what it asked, then stop.
    const drain = () => void callsSettled().then(close);
    process.stdin.once('end', drain);
    // A signal means now: stop the commands still running (by pid) without waiting for them.
    const interrupt = () => {
      killRunningCommands();
      close();
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    transport.onclose = resolve;
  });
  await server.connect(transport);
  process.stderr.write(
    `devctl mcp: serving over stdio${options.readOnly ? ' (read-only: no start, stop, restart)' : ''}\n`,
  );
  await closed;
}
