// How start, stop, restart and delete show their outcome: each service as it happens (people), one
// JSON document at the end (--json), and the exit code (1 when a service failed).

import { CLIError } from '../errors';
import type { LifecycleSink, RestartLogLine, RestartVerdict, ServiceResult } from '../lifecycle/index';
import { parseLine, renderEntry } from '../logs/index';
import { c } from '../output/colors';
import { plural } from '../output/format';
import { nameWidth, renderServiceResult } from '../output/report';

/** Prints human progress as it happens; prints nothing for --json (the document comes at the end). */
export class Reporter implements LifecycleSink {
  private readonly width: number;
  constructor(
    readonly json: boolean,
    names: string[],
  ) {
    this.width = nameWidth(names);
  }

  line(text: string): void {
    if (!this.json) process.stdout.write(`${c.gray(text)}\n`);
  }

  /** With --json, stdout is the document: a wait is said on stderr instead. */
  notice(text: string): void {
    if (this.json) process.stderr.write(`devctl: ${text}\n`);
    else process.stdout.write(`${c.gray(text)}\n`);
  }

  service(result: ServiceResult): void {
    if (!this.json) process.stdout.write(renderServiceResult(result, this.width));
  }
}

/** Prints the --json document or throws the summary; exit code 1 when a service failed. */
export function finishReport(
  command: string,
  results: ServiceResult[],
  json: boolean,
  extra: Record<string, unknown> = {},
  ok = results.every((r) => r.ok),
): void {
  const failed = results.filter((r) => !r.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok, ...extra, services: results })}\n`);
    if (!ok) process.exitCode = 1;
    return;
  }
  if (failed.length > 0) {
    throw new CLIError(
      `${command}: ${failed.length} of ${plural(results.length, 'service')} failed: ${failed.map((r) => r.name).join(', ')} (details above)`,
    );
  }
  if (!ok) process.exitCode = 1;
}

/** The lines of one service since the restart, rendered like `devctl logs` renders them. */
export function renderLogLines(name: string, lines: RestartLogLine[]): string {
  if (lines.length === 0) return c.gray(`${name} wrote no log line since the restart\n`);
  let previous = new Date();
  const rendered = lines.map((line) => {
    const parsed = parseLine(line.text, line.service, line.stream);
    const time = parsed.time ?? previous;
    previous = time;
    return `  ${renderEntry({ ...parsed, time }, { mode: 'text', showService: false })}`;
  });
  return `${c.bold(name)} ${c.gray(`log since the restart (${lines.length} lines; more: devctl logs ${name})`)}\n${rendered.join('\n')}\n`;
}

/** The verdict's lines: healthy only when every restart took and diagnose found nothing new. */
export async function renderVerdict(verdict: RestartVerdict): Promise<string> {
  if (verdict.healthy) return `${c.green('✓ verdict:')} healthy, no new error since the restart\n`;
  const lines: string[] = [];
  for (const failed of verdict.restartFailed) {
    lines.push(`${c.red('✗ verdict:')} the restart of ${failed.service} did not take: ${failed.reason}`);
  }
  if (verdict.findings.length > 0) {
    const { renderReport } = await import('../diagnose/index');
    lines.push(renderReport(verdict));
  } else if (verdict.restartFailed.length > 0) {
    lines.push(
      c.gray(
        `diagnose found nothing new since the restart; read the failure above, then: devctl restart ${verdict.restartFailed.map((f) => f.service).join(' ')} --wait`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
