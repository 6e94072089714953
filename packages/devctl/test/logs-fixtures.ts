// Generated PM2-style log files for the log reader's tests: PM2's `time: true` prefix on every
// physical line, pino JSON lines (some of them over 10 KiB, some with a 50-frame error stack inside),
// plain console lines, and Node's uncaught-error output as 50 physical lines. Every event has its
// own second (or more), so the merged order of out and err is known without relying on tie rules.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrittenLine {
  stream: 'out' | 'err';
  raw: string;
  /** The event (one log call or one uncaught error) the line belongs to. */
  event: number;
  time: Date;
}

const pad2 = (value: number) => String(value).padStart(2, '0');

/** PM2's prefix: `YYYY-MM-DDTHH:mm:ss: ` in local time. */
export function pm2Prefix(time: Date): string {
  return `${time.getFullYear()}-${pad2(time.getMonth() + 1)}-${pad2(time.getDate())}T${pad2(time.getHours())}:${pad2(time.getMinutes())}:${pad2(time.getSeconds())}: `;
}

function stack(event: number, frames: number): string[] {
  const lines = [`TypeError: cannot read properties of undefined (reading 'id') #${event}`];
  for (let frame = 1; frame <= frames; frame++) {
    lines.push(`    at handler${frame} (/srv/services/form/src/routes.ts:${frame}:7) #${event}`);
  }
  return lines;
}

/** The physical lines of one event, before PM2's prefix. */
function eventLines(service: string, event: number, time: Date): { stream: 'out' | 'err'; lines: string[] } {
  const pino = (level: number, msg: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ level, time: time.toISOString(), pid: 4242, hostname: 'box', service, ...extra, msg });
  switch (event % 7) {
    case 0:
    case 3:
      return { stream: 'out', lines: [pino(30, `request completed #${event}`, { reqId: `r-${event}` })] };
    case 1:
      // A line of ~12 KiB: a large payload logged whole.
      return {
        stream: 'out',
        lines: [pino(30, `payload #${event}`, { payload: 'x'.repeat(12_000 + event) })],
      };
    case 2:
      return { stream: 'out', lines: [`plain console line #${event}`] };
    case 4: {
      const error = stack(event, 50);
      return {
        stream: 'err',
        lines: [
          pino(50, `request failed #${event}`, {
            err: { type: 'TypeError', message: 'boom', stack: error.join('\n') },
          }),
        ],
      };
    }
    case 5:
      return { stream: 'out', lines: [pino(40, `slow query #${event}`, { ms: 1200 })] };
    default:
      // Node's own uncaught-error output: one physical line per stack line, each prefixed by PM2.
      return { stream: 'err', lines: stack(event, 50) };
  }
}

/**
 * Generates `events` events from `start` (rounded down to a whole second, as PM2's prefix is),
 * `stepMs` apart; returns every physical line in written order.
 */
export function generateLines(service: string, events: number, start: Date, stepMs = 1000): WrittenLine[] {
  const written: WrittenLine[] = [];
  const first = Math.floor(start.getTime() / 1000) * 1000;
  for (let event = 0; event < events; event++) {
    const time = new Date(first + event * stepMs);
    const { stream, lines } = eventLines(service, event, time);
    for (const line of lines) written.push({ stream, raw: `${pm2Prefix(time)}${line}`, event, time });
  }
  return written;
}

export function writeLog(file: string, lines: WrittenLine[]): void {
  writeFileSync(file, lines.map((line) => `${line.raw}\n`).join(''));
}

/** Writes a service's out.log and error.log in `folder`; returns the lines in written order. */
export function writeServiceLogs(
  folder: string,
  service: string,
  events: number,
  start: Date,
  stepMs = 1000,
): WrittenLine[] {
  mkdirSync(folder, { recursive: true });
  const lines = generateLines(service, events, start, stepMs);
  writeLog(
    join(folder, 'out.log'),
    lines.filter((line) => line.stream === 'out'),
  );
  writeLog(
    join(folder, 'error.log'),
    lines.filter((line) => line.stream === 'err'),
  );
  return lines;
}

/** An ecosystem.config.js whose apps log to `<root>/logs/<name>/{out,error}.log`. */
export function writeEcosystem(root: string, names: string[]): void {
  const apps = names.map((name) => ({
    name,
    namespace: 'logs-test',
    cwd: root,
    script: 'app.js',
    out_file: join(root, 'logs', name, 'out.log'),
    error_file: join(root, 'logs', name, 'error.log'),
    time: true,
  }));
  writeFileSync(
    join(root, 'ecosystem.config.js'),
    `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`,
  );
}
