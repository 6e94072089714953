// devctl diagnose [names...] [--json]: what is wrong with the running stack, the root cause first,
// with evidence, source location and the next command. Exit 0 with no error finding, 1 with one.
import { EXIT_FAILURE } from '../errors';
import { parseSince } from '../logs/since';

export interface DiagnoseCommandOptions {
  names: string[];
  /** `--since`: a duration back from now or an ISO time (parsed as `logs --since` is). */
  since?: string;
  json: boolean;
}

export async function runDiagnose(options: DiagnoseCommandOptions): Promise<void> {
  const notBefore = options.since === undefined ? undefined : parseSince(options.since);
  const { diagnose, renderReport } = await import('../diagnose/index');
  const report = await diagnose({ names: options.names, notBefore });
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${renderReport(report)}\n`);
  if (report.findings.some((finding) => finding.severity === 'error')) process.exitCode = EXIT_FAILURE;
}
