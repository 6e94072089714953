import { once } from 'node:events';

const BLOCK_CHARS = 64 * 1024;

/** Resolves once everything written so far has left the process, or stdout is gone. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('close', done);
      resolve();
    };
    stream.once('close', done);
    stream.write('', () => done());
  });
}

/**
 * Writes lines to stdout in blocks, waiting for the pipe to drain, and resolves only once all of it
 * is flushed: stdout to a pipe is asynchronous once the pipe is full, and devctl's entry exits as
 * soon as the command returns. Stops quietly when the reader has gone (`devctl logs | head`).
 */
export async function writeLines(
  lines: Iterable<string>,
  stream: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  let block = '';
  for (const line of lines) {
    block += `${line}\n`;
    if (block.length < BLOCK_CHARS) continue;
    if (stream.destroyed) return;
    if (!stream.write(block)) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
    block = '';
  }
  if (stream.destroyed) return;
  if (block) stream.write(block);
  await flushed(stream);
}
