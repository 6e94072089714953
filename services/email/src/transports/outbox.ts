import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { type Delivery, IDEMPOTENCY_HEADER, type MailTransport, type OutgoingEmail } from './types';

const SAFE = /[^A-Za-z0-9._-]/g;
const MAX_NAME = 120;

/**
 * The outbox file name of a key: the key with every character outside [A-Za-z0-9._-] replaced by
 * `_`, and, when anything was replaced or cut, a short hash of the whole key, so that distinct keys
 * (`a:b` and `a_b`) never share a file and no key can reach outside the folder.
 */
export function outboxFileName(idempotencyKey: string): string {
  const safe = idempotencyKey.replace(SAFE, '_').slice(0, MAX_NAME);
  if (safe === idempotencyKey) return `${safe}.eml`;
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10);
  return `${safe}.${hash}.eml`;
}

/** The Message-ID header of an .eml file, or undefined when there is no such file. */
async function readMessageId(file: string): Promise<string | undefined> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const headerEnd = content.search(/\r?\n\r?\n/);
  const headers = headerEnd === -1 ? content : content.slice(0, headerEnd);
  return /^Message-ID:\s*(\S+)/im.exec(headers)?.[1] ?? '(no Message-ID header)';
}

/**
 * Writes each email as an RFC 822 `.eml` file, one per idempotency key. The message is composed by
 * nodemailer's stream transport, written to a temporary file and synced, then published with
 * `link`, which (unlike `rename`) fails when the name exists: a second send of one key, even from
 * a racing process, never replaces or duplicates the first file.
 */
export function outboxTransport(options: { dir: string; from: string }): MailTransport {
  const composer = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  return {
    name: 'outbox',
    async deliver(email: OutgoingEmail): Promise<Delivery> {
      const file = join(options.dir, outboxFileName(email.idempotencyKey));
      const existing = await readMessageId(file);
      if (existing) return { messageId: existing, duplicate: true };

      const info = await composer.sendMail({
        from: options.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        headers: { [IDEMPOTENCY_HEADER]: email.idempotencyKey },
      });
      await mkdir(options.dir, { recursive: true });
      const temp = join(
        options.dir,
        `.${outboxFileName(email.idempotencyKey)}.${randomBytes(6).toString('hex')}.tmp`,
      );
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(info.message as Buffer);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(temp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        return { messageId: (await readMessageId(file)) ?? info.messageId, duplicate: true };
      } finally {
        await rm(temp, { force: true });
      }
      return { messageId: info.messageId, duplicate: false };
    },
    async verify() {
      await mkdir(options.dir, { recursive: true });
      await access(options.dir, constants.W_OK);
      return `outbox folder ${options.dir} is writable`;
    },
    close() {
      composer.close();
    },
    describe: () => ({ transport: 'outbox', outboxDir: options.dir }),
  };
}
