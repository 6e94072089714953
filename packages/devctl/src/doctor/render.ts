// The human rendering of devctl doctor: one line per check, its fix under it when it is not ok.
import { c } from '../output/colors';
import type { DoctorCheck, DoctorReport } from './checks';

const MARK: Record<DoctorCheck['status'], () => string> = {
  ok: () => c.green('ok  '),
  warn: () => c.yellow('warn'),
  fail: () => c.red('FAIL'),
};

export function renderDoctor(report: DoctorReport): string {
  const count = (status: DoctorCheck['status']) =>
    report.checks.filter((check) => check.status === status).length;
  const width = Math.max(...report.checks.map((check) => `${check.check} ${check.subject}`.length));
  const lines = [
    c.bold(`devctl doctor: ${count('fail')} fail, ${count('warn')} warn, ${count('ok')} ok`),
    ...report.checks.flatMap((check) => {
      const label = `${check.check} ${check.subject}`.padEnd(width);
      const line = `${MARK[check.status]()}  ${label}  ${check.summary}`;
      return check.fix ? [line, `      ${' '.repeat(width)}  ${c.dim('fix:')} ${check.fix}`] : [line];
    }),
  ];
  if (report.ok)
    lines.push(
      count('warn') > 0 ? 'ready to start (see the warnings above)' : 'ready to start: pnpm pm2:start',
    );
  return lines.join('\n');
}
