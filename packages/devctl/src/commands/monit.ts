// `devctl monit`: a live full-screen view of this project's services -- the status table of
// `devctl status` (PM2 state, health, CPU, memory, restarts) and the last log lines of each.
// On a terminal it redraws every --interval seconds in the alternate screen until q or Ctrl-C and
// then restores the terminal; when stdout is not a terminal it prints one snapshot and exits, so
// it can be scripted and tested.
import { type Ecosystem, loadEcosystem, resolveServices } from '../ecosystem/index';
import { usageError } from '../errors';
import { type LogSource, logFiles, readLastMerged, renderEntry } from '../logs/index';
import { formatLocalTime } from '../logs/render';
import { writeLines } from '../logs/stdout';
import { c } from '../output/colors';
import { collectStatus, renderStatus } from '../status/index';

export interface MonitOptions {
  names: string[];
  /** Seconds between redraws (default 2). */
  intervalSeconds?: number;
}

const DEFAULT_INTERVAL_SECONDS = 2;
/** Log lines per service in a snapshot (no terminal height to fill). */
const SNAPSHOT_LOG_LINES = 5;

// Terminal control sequences: alternate screen, cursor visibility, home, clear to end of line/screen.
const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h';
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l';
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';
const CURSOR_HOME = '\u001b[H';
const CLEAR_LINE_END = '\u001b[K';
const CLEAR_SCREEN_END = '\u001b[J';
const CTRL_C = '\u0003';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
const ANSI_AT_START = /^\u001b\[[0-9;]*m/;

/** Cuts a line to `columns` visible characters, keeping colour codes intact. */
export function fitToWidth(line: string, columns: number): string {
  let visible = 0;
  let index = 0;
  let out = '';
  while (index < line.length) {
    const colourCode = ANSI_AT_START.exec(line.slice(index, index + 16));
    if (colourCode) {
      out += colourCode[0];
      index += colourCode[0].length;
      continue;
    }
    if (visible === columns) return `${out}\u001b[0m`;
    out += line[index];
    visible++;
    index++;
  }
  return out;
}

interface FrameSize {
  /** Terminal width; undefined for a snapshot (lines are not cut). */
  columns?: number;
  /** Terminal height; undefined for a snapshot (a fixed number of log lines per service). */
  rows?: number;
}

/** The last `count` display lines of a service's logs (out and err merged), or why there are none. */
function logTail(service: { name: string; outFile: string; errorFile: string }, count: number): string[] {
  const sources: LogSource[] = [{ service: service.name, stream: 'out', file: service.outFile }];
  // One combined file for both streams is read once.
  if (service.errorFile !== service.outFile)
    sources.push({ service: service.name, stream: 'err', file: service.errorFile });
  const readable = sources.filter((source) => logFiles(source.file).length > 0);
  if (readable.length === 0) return [c.gray('(no log file yet)')];
  const entries = readLastMerged(readable, count);
  if (entries.length === 0) return [c.gray('(log is empty)')];
  const lines = entries.flatMap((entry) =>
    renderEntry(entry, { mode: 'text', showService: false }).split('\n'),
  );
  return lines.slice(-count);
}

/** One screen: a title, the status table with its hints, and the log tail of each service. */
export async function buildFrame(
  ecosystem: Ecosystem,
  names: string[],
  size: FrameSize,
  intervalSeconds: number,
): Promise<string[]> {
  const services = resolveServices(ecosystem, names);
  const report = await collectStatus(ecosystem, names);
  const now = new Date();
  const title = `${c.bold('devctl monit')}  ${ecosystem.namespace}  ${formatLocalTime(now).slice(11)}${
    size.rows === undefined ? '' : c.gray(`  every ${intervalSeconds}s, q to quit`)
  }`;
  const top = [title, '', ...renderStatus(report).trimEnd().split('\n'), ''];
  let perService = SNAPSHOT_LOG_LINES;
  if (size.rows !== undefined) {
    // Each service takes a heading line plus its log lines; share what is left of the screen.
    const free = size.rows - top.length - services.length;
    perService = Math.max(1, Math.floor(free / Math.max(1, services.length)));
  }
  const lines = [...top];
  for (const service of services) {
    lines.push(c.bold(`── ${service.name} ${'─'.repeat(Math.max(0, 40 - service.name.length))}`));
    for (const line of logTail(service, perService)) lines.push(`  ${line}`);
  }
  const fitted = size.rows === undefined ? lines : lines.slice(0, size.rows);
  return size.columns === undefined ? fitted : fitted.map((line) => fitToWidth(line, size.columns as number));
}

function parseInterval(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_INTERVAL_SECONDS;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw usageError(`--interval must be a positive number of seconds (e.g. --interval 2), not "${seconds}"`);
  }
  return seconds;
}

export async function runMonit(options: MonitOptions): Promise<void> {
  const intervalSeconds = parseInterval(options.intervalSeconds);
  const ecosystem = loadEcosystem();
  resolveServices(ecosystem, options.names);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    await writeLines(await buildFrame(ecosystem, options.names, {}, intervalSeconds));
    return;
  }
  await liveView(options.names, intervalSeconds);
}

/** Redraws until q, Ctrl-C or a signal; the terminal is restored on every way out. */
async function liveView(names: string[], intervalSeconds: number): Promise<void> {
  const stdout = process.stdout;
  const stdin = process.stdin;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  const redrawNow = () => wake?.();
  const onKey = (data: Buffer) => {
    const key = data.toString('utf8');
    if (key === 'q' || key === 'Q' || key === CTRL_C) stop();
  };
  const restore = () => {
    stdout.write(SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
  };

  stdout.write(ENTER_ALTERNATE_SCREEN + HIDE_CURSOR);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onKey);
  stdout.on('resize', redrawNow);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Should devctl crash, the user's terminal still comes back.
  process.once('exit', restore);
  try {
    while (!stopped) {
      let frame: string[];
      try {
        frame = await buildFrame(
          loadEcosystem(),
          names,
          { columns: stdout.columns, rows: stdout.rows },
          intervalSeconds,
        );
      } catch (error) {
        frame = [c.bold('devctl monit'), '', c.red(`cannot read the stack: ${(error as Error).message}`)];
      }
      if (stopped) break;
      stdout.write(
        `${CURSOR_HOME}${frame.map((line) => line + CLEAR_LINE_END).join('\n')}${CLEAR_SCREEN_END}`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalSeconds * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    process.off('exit', restore);
    restore();
    stdin.off('data', onKey);
    stdin.setRawMode(false);
    stdin.pause();
    stdout.off('resize', redrawNow);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
