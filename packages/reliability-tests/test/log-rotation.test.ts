// Bounded logs under a real PM2: an app writes more than 60 MiB of numbered lines to its out.log
// while devctl's rotator (the devctl-logrotate app, as ecosystem.config.js declares it, with its
// default 10 MiB x 5) runs in the same namespace. Afterwards the log and its rotated files stay
// within the bound, no line is lost or doubled across the rotations, and `devctl logs` reads
// across the rotation boundary.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcosystemApp } from '../src/ecosystem';
import { pollUntil } from '../src/http';
import { createPm2Stack, type Pm2Stack } from '../src/pm2';

const MIB = 1024 * 1024;
const WRITTEN_BYTES = 90 * MIB;
/** Faster than any service logs, slow enough that the 1 s check keeps each file near 10 MiB. */
const WRITE_RATE = 4 * MIB;
const MAX_BYTES = 10 * MIB;
const KEEP = 5;
/** Each numbered line's padding, as chatty.cjs writes it (passed to it, so the two agree). */
const PADDING_LENGTH = 180;
const PADDING = 'x'.repeat(PADDING_LENGTH);

/** The rotator's entry exactly as the repository's ecosystem.config.js declares it: on by default. */
function rotatorEntry(apps: EcosystemApp[]): EcosystemApp {
  const declared = apps.find((app) => app.name === 'devctl-logrotate');
  if (!declared) throw new Error('ecosystem.config.js declares no devctl-logrotate app: log rotation is off');
  return declared;
}

let stack: Pm2Stack;
let outLog = '';

beforeAll(async () => {
  stack = await createPm2Stack({
    selectApps: (apps) => {
      const rotator = rotatorEntry(apps);
      return [
        {
          name: 'chatty',
          namespace: String(rotator.namespace),
          cwd: fileURLToPath(new URL('./fixtures/', import.meta.url)),
          script: 'chatty.cjs',
          exec_mode: 'fork',
          merge_logs: true,
          time: true,
          autorestart: false,
          pmx: false,
          automation: false,
          env: {
            CHATTY_BYTES: String(WRITTEN_BYTES),
            CHATTY_RATE: String(WRITE_RATE),
            CHATTY_LINE_PADDING: String(PADDING_LENGTH),
          },
        },
        rotator,
      ];
    },
  });
  outLog = stack.ecosystem.logFiles.chatty?.out as string;
  const started = await stack.pm2(['start', stack.ecosystem.file]);
  expect(started.code, started.stderr + started.stdout).toBe(0);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const size = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
};
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
/** The last bytes of a file: the poll below runs every second over ~60 MiB of logs; reading them
 * whole each time took a core of this 2-core machine from the writer it waits for. */
const tail = (file: string, bytes: number) => {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const length = Math.min(bytes, fstatSync(fd).size);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, fstatSync(fd).size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};
/** The current log and its rotated files, oldest first, that exist. */
const logChain = () =>
  [...Array.from({ length: KEEP + 3 }, (_, i) => `${outLog}.${KEEP + 2 - i}`), outLog].filter(
    (file) => size(file) !== undefined,
  );

describe('log rotation on by default: 10 MiB x 5', () => {
  it(`after ${WRITTEN_BYTES / MIB} MiB written, the log and its rotated files stay within the bound`, async () => {
    const startedAt = performance.now();
    const done = await pollUntil(
      () => logChain().some((file) => /^.*done \d+$/m.test(tail(file, 200))),
      Boolean,
      240_000,
      1000,
    );
    expect(done, `chatty did not finish writing; files: ${logChain().join(', ')}`).toBe(true);
    const writeSeconds = (performance.now() - startedAt) / 1000;
    // chatty writes its tail lines 4 s after `done`; then a check interval of the rotator passes.
    await new Promise((resolve) => setTimeout(resolve, 7000));

    const files = logChain();
    const sizes = files.map((file) => ({
      file: file.slice(outLog.length) || 'out.log',
      bytes: size(file) ?? 0,
    }));
    const total = sizes.reduce((sum, f) => sum + f.bytes, 0);
    const rotatorLog = read(stack.ecosystem.logFiles['devctl-logrotate']?.out as string);
    console.log(
      `log rotation: wrote ${WRITTEN_BYTES / MIB} MiB (plus PM2's time prefixes) in ${writeSeconds.toFixed(1)} s; on disk ${(total / MIB).toFixed(1)} MiB in ${sizes
        .map((f) => `${f.file} ${(f.bytes / MIB).toFixed(1)}`)
        .join(', ')} MiB; ${(rotatorLog.match(/rotated /g) ?? []).length} rotations`,
    );

    expect(files.map((f) => f.slice(outLog.length))).toEqual(['.5', '.4', '.3', '.2', '.1', '']);
    // A file grows past 10 MiB by at most what PM2 writes in one check interval.
    for (const { file, bytes } of sizes) expect(bytes, file).toBeLessThan(MAX_BYTES + 8 * MIB);
    // Without rotation the one file would hold everything written (more, with PM2's prefixes).
    expect(total).toBeLessThan(WRITTEN_BYTES);
    expect(rotatorLog).toMatch(/devctl-logrotate: rotated .*out\.log/);
  }, 300_000);

  // PM2 itself (time: true) drops the head of a line that arrives split across two reads of the
  // app's stdout pipe: its prefixing splits each chunk at newlines and discards the last, partial
  // piece; the rest of that line then shows as a line of its own, without its head -- empty when
  // the read ended just before the newline, so the whole line is gone. A missing number whose line
  // ends with such a fragment (a suffix of `seq=<n> <padding>`, maybe empty) was PM2's; only missing
  // numbers no fragment explains count against the rotation. (Fragments were first told by `x+`
  // alone: a CI run under load counted 219 of PM2's drops as rotation losses, and one after it 15,
  // each with an empty line where the number should be.)
  it('no line is doubled, and rotation loses at most a line per rotation (beyond what PM2 drops)', () => {
    const numbers: number[] = [];
    const where: string[] = [];
    const fragments: string[] = [];
    for (const file of logChain()) {
      let index = 0;
      for (const line of read(file).split('\n')) {
        const match = /seq=(\d+) /.exec(line);
        if (match) {
          numbers.push(Number(match[1]));
          where.push(`${file.slice(outLog.length) || 'out.log'}:${index}`);
        } else if (line !== '' && !/: done \d+$/.test(line)) {
          // Without PM2's time prefix (`2026-12-07T02:04:11: `).
          fragments.push(line.replace(/^\S+: /, ''));
        }
        index++;
      }
    }
    const doubled: number[] = [];
    const gaps: string[] = [];
    const missingNumbers: number[] = [];
    for (let i = 1; i < numbers.length; i++) {
      const step = (numbers[i] as number) - (numbers[i - 1] as number);
      if (step < 1) doubled.push(numbers[i] as number);
      else if (step > 1) {
        for (let n = (numbers[i - 1] as number) + 1; n < (numbers[i] as number); n++) missingNumbers.push(n);
        gaps.push(`${numbers[i - 1]} (${where[i - 1]}) -> ${numbers[i]} (${where[i]})`);
      }
    }
    // A multiset: an empty fragment (or the same tail) can stand for several dropped lines.
    const unexplained = new Map<string, number>();
    for (const piece of fragments) unexplained.set(piece, (unexplained.get(piece) ?? 0) + 1);
    const lost = missingNumbers.filter((n) => {
      const whole = `seq=${n} ${PADDING}`;
      // An empty fragment is a line PM2 dropped whole: the read ended just before its newline.
      const fragment = [...unexplained.keys()].find((piece) => whole.endsWith(piece));
      if (fragment === undefined) return true;
      const left = (unexplained.get(fragment) ?? 1) - 1;
      if (left === 0) unexplained.delete(fragment);
      else unexplained.set(fragment, left);
      return false;
    });
    const rotations = (
      read(stack.ecosystem.logFiles['devctl-logrotate']?.out as string).match(/rotated /g) ?? []
    ).length;
    console.log(
      `log rotation: ${numbers.length} lines kept, seq=${numbers[0]} to seq=${numbers.at(-1)}; missing ${missingNumbers.length} (${missingNumbers.length - lost.length} of them PM2's split lines, their fragments found), lost to rotation ${lost.length}, doubled ${doubled.length}, over ${rotations} rotations${gaps.length > 0 ? `; first gaps: ${gaps.slice(0, 5).join(', ')}` : ''}${
        unexplained.size > 0
          ? `; other lines: ${[...unexplained]
              .slice(0, 3)
              .map((l) => JSON.stringify(l.slice(0, 40)))
              .join(', ')}`
          : ''
      }`,
    );
    expect(doubled).toEqual([]);
    expect(lost.length).toBeLessThanOrEqual(rotations);
  });

  it('devctl logs reads across the rotation boundary, in order', async () => {
    const lines = (file: string) => read(file).split('\n').filter(Boolean);
    const current = lines(outLog);
    // Enough lines to need the newest rotated file (and the one before it when out.log is empty).
    const wanted = current.length + (current.length > 0 ? 50 : lines(`${outLog}.1`).length + 50);
    const chain = [`${outLog}.2`, `${outLog}.1`, outLog].flatMap(lines);
    const expected = chain
      .slice(-wanted)
      .filter((line) => /seq=\d+ |done \d+/.test(line))
      .map((line) => line.replace(/^\S+: /, ''));
    const result = await stack.devctl(['logs', 'chatty', '--out', '--raw', '--lines', String(wanted)]);
    expect(result.code, result.stderr).toBe(0);
    const printed = result.stdout
      .split('\n')
      .filter((line) => /seq=\d+ |done \d+/.test(line))
      .map((line) => /(seq=\d+ x+|done \d+)$/.exec(line)?.[1]);
    const firstDifference = printed.findIndex((line, i) => line !== expected[i]);
    expect(
      firstDifference,
      `devctl logs printed ${printed.length} of ${wanted} lines; first difference at ${firstDifference}: ${printed[firstDifference]?.slice(0, 30)} vs ${expected[firstDifference]?.slice(0, 30)}`,
    ).toBe(-1);
    expect(printed.length).toBe(expected.length);
  }, 120_000);
});
