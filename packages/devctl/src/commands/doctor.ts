// devctl doctor [--json]: checks the machine and the project before starting (toolchain, installed
// dependencies, .env files and configuration, ports, PM2 daemon, logs, disk). Exit 1 when a check
// fails, 0 otherwise (warnings included).
import { loadEcosystem } from '../ecosystem/index';
import { EXIT_FAILURE } from '../errors';

export interface DoctorCommandOptions {
  json: boolean;
}

export async function runDoctor(options: DoctorCommandOptions): Promise<void> {
  const { runDoctorChecks } = await import('../doctor/checks');
  const report = await runDoctorChecks(loadEcosystem());
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${(await import('../doctor/render')).renderDoctor(report)}\n`);
  if (!report.ok) process.exitCode = EXIT_FAILURE;
}
