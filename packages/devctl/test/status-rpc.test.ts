// devctl reads PM2 through its own small client of the daemon's RPC socket. Its AMP codec must
// agree byte for byte with `amp-message`, the package PM2's daemon uses, in both directions, and
// must reassemble messages split across socket reads.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeMessages, encodeMessage } from '../src/pm2/rpc';

const pm2Require = createRequire(createRequire(import.meta.url).resolve('pm2/package.json'));
const Message = pm2Require('amp-message') as new (
  args?: unknown[] | Buffer,
) => {
  args: unknown[];
  toBuffer(): Buffer;
};

const request = [{ type: 'call', method: 'getMonitorData', args: [{}] }, '1234:7'];
const reply = [{ args: [[{ name: 'api', pm2_env: { status: 'online', note: 'ünïcode ✓' } }]] }, '1234:7'];

describe('the AMP codec of devctl’s PM2 client', () => {
  it('encodes exactly what amp-message encodes', () => {
    expect(encodeMessage(request).equals(new Message(request).toBuffer())).toBe(true);
    expect(encodeMessage(reply).equals(new Message(reply).toBuffer())).toBe(true);
  });

  it('decodes what amp-message encodes, and amp-message decodes what it encodes', () => {
    expect(decodeMessages(new Message(reply).toBuffer()).messages).toEqual([reply]);
    expect(new Message(encodeMessage(request)).args).toEqual(request);
  });

  it('waits for the rest of a message split across reads, and splits messages sent together', () => {
    const one = encodeMessage(reply);
    const two = encodeMessage([{ args: [] }, '1234:8']);
    const stream = Buffer.concat([one, two]);
    for (const cut of [1, 3, 5, one.length - 1, one.length, one.length + 2]) {
      const first = decodeMessages(stream.subarray(0, cut));
      const second = decodeMessages(Buffer.concat([first.rest, stream.subarray(cut)]));
      expect([...first.messages, ...second.messages]).toEqual([reply, [{ args: [] }, '1234:8']]);
    }
  });
});
