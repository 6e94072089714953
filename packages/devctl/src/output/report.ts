// How lifecycle commands (start, restart, stop, delete) report each service to a person.
import type { ServiceResult } from '../pm2/supervise';
import { c } from './colors';
import { formatDuration } from './format';

const MARK_OK = '✓';
const MARK_FAIL = '✗';
const MARK_SKIP = '-';

/** One service's lines: the outcome, then for a failure its evidence and the next step. */
export function renderServiceResult(result: ServiceResult, nameWidth: number): string {
  const name = result.name.padEnd(nameWidth);
  const facts: string[] = [];
  if (result.pid) facts.push(`pid ${result.pid}`);
  if (result.port) facts.push(`port ${result.port}`);
  const factText = facts.length > 0 ? c.gray(`  ${facts.join('  ')}`) : '';
  const note = result.note ? c.gray(`  (${result.note})`) : '';
  if (result.ok) {
    let what = result.action;
    // A tool (no port) has no /health: being online in PM2 is what was waited for.
    if (result.healthy)
      what += `, ${result.port ? 'healthy' : 'online'}${result.elapsedMs !== null ? ` in ${formatDuration(result.elapsedMs)}` : ''}`;
    else if (
      result.healthy === null &&
      result.port &&
      (result.action === 'started' || result.action === 'restarted')
    ) {
      what += ` (PM2 status ${result.state}; not waiting for /health: use --wait)`;
    }
    const mark =
      result.action.startsWith('already') || result.action === 'not in PM2'
        ? c.gray(MARK_SKIP)
        : c.green(MARK_OK);
    return `${mark} ${c.bold(name)}  ${what}${factText}${note}\n`;
  }
  const failure = result.failure;
  const lines = [
    `${c.red(MARK_FAIL)} ${c.bold(name)}  ${c.red(result.action)}: ${failure?.reason ?? 'failed'}${note}`,
  ];
  if (failure && failure.kind !== 'dependency' && failure.kind !== 'port-in-use') {
    const details = [`status ${failure.state}`];
    if (failure.pm2Status && failure.pm2Status !== failure.state) details.push(`PM2: ${failure.pm2Status}`);
    details.push(`restarts ${failure.restarts}`);
    if (failure.exitCode !== null) details.push(`last exit code ${failure.exitCode}`);
    lines.push(`    ${details.join(', ')}`);
    if (failure.errorLines.length > 0) {
      lines.push(
        `    ${failure.errorLinesAreOlder ? 'last lines of its error log (written before this start):' : failure.errorLinesFromBus ? "its error output since the start (from PM2's bus: PM2 did not write it to its error log):" : 'its error log since the start:'}`,
      );
      for (const line of failure.errorLines) lines.push(`      ${c.dim(line)}`);
    } else {
      lines.push('    its error log is empty');
    }
  }
  if (failure) lines.push(`    next: ${c.bold(failure.next)}`);
  return `${lines.join('\n')}\n`;
}

export function nameWidth(names: string[]): number {
  return Math.max(0, ...names.map((n) => n.length));
}
