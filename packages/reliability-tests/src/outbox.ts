// Reads the confirmation emails email-service wrote to its outbox (.eml files), to count them per
// submission: the worker's text ends with `Submission <id> to form <id>.`
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OutboxEmail {
  file: string;
  idempotencyKey: string | undefined;
  submissionId: string | undefined;
}

const SUBMISSION = /Submission ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) to form/i;

/** Every .eml of the folder (temporary files of writes in progress are skipped). */
export function readOutbox(dir: string): OutboxEmail[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.eml') && !name.startsWith('.'))
    .map((name) => {
      const raw = readFileSync(join(dir, name), 'utf8');
      // Quoted-printable soft line breaks split long lines; headers may be folded.
      const text = raw.replace(/=\r?\n/g, '');
      const key = /^X-Idempotency-Key:\s*(.+(?:\r?\n[ \t].+)*)/im
        .exec(raw)?.[1]
        ?.replace(/\r?\n[ \t]+/g, ' ')
        .trim();
      return { file: name, idempotencyKey: key, submissionId: SUBMISSION.exec(text)?.[1]?.toLowerCase() };
    });
}
