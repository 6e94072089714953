// What start and restart check before they touch a process: the timeout option, the build (so PM2
// runs the code on disk) and each service's configuration (its dry run). A service that cannot be
// built or would refuse its configuration is not taken down: its running process stays.
import { type BuildResult, buildServices } from '../ecosystem/build';
import type { Ecosystem, ServiceEntry } from '../ecosystem/index';
import { preflightConfig } from '../ecosystem/print-config';
import { CLIError } from '../errors';
import { formatDuration, plural } from '../output/format';
import type { LifecycleSink } from './outcome';

export const DEFAULT_TIMEOUT_SECONDS = 30;

export function timeoutMs(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CLIError(`--timeout must be a positive number of seconds, not ${seconds}`, 2);
  }
  return seconds * 1000;
}

/** Builds `services` and says so; throws the build's findings (see buildServices) when it fails. */
export async function buildStep(
  ecosystem: Ecosystem,
  services: ServiceEntry[],
  sink: LifecycleSink,
  command: 'start' | 'restart',
): Promise<void> {
  if (services.length === 0) return;
  const result = await buildServices(ecosystem.root, services, command);
  const line = buildLine(result);
  if (line) sink.line(line);
}

/**
 * What the build did, in words a reader need not know turbo for: how many build tasks ran again
 * and how many turbo took unchanged from its cache ("4 cached" alone read as "nothing rebuilt").
 */
export function buildLine(result: BuildResult): string | null {
  if (result.command === null) return null;
  const what = `${plural(result.packages.length, 'service')} in ${formatDuration(result.elapsedMs)}`;
  const tool = result.command.split(' ')[0];
  const { cached, tasks } = result;
  if (cached === null || tasks === undefined || tasks === null || cached > tasks)
    return `built ${what} (${tool})`;
  if (cached === tasks) {
    return `built ${what} (${tool}: these exact sources were built before; all ${plural(tasks, 'build task')} restored from its cache)`;
  }
  const ran = tasks - cached;
  return `built ${what} (${tool}: ${ran} of ${plural(tasks, 'build task')} rebuilt from changed sources${cached > 0 ? `, ${cached} unchanged and taken from its cache` : ''})`;
}

/**
 * Refuses, before anything is launched, a configuration a service would reject at start (the dry
 * run of each service's `--print-config`), naming the service and the variable.
 */
export async function assertValidConfig(
  ecosystem: Ecosystem,
  services: ServiceEntry[],
  command: 'start' | 'restart',
): Promise<void> {
  const problems = await preflightConfig(services, ecosystem.root);
  if (problems.length === 0) return;
  const names = [...new Set(problems.map((p) => p.service))];
  throw new CLIError(
    `${plural(names.length, 'service')} would refuse ${names.length === 1 ? 'its' : 'their'} configuration; nothing was ${command === 'start' ? 'started' : 'restarted'}:\n${problems
      .map((p) => `  ${p.service}: ${p.field}: ${p.message}`)
      .join(
        '\n',
      )}\nnext: fix the value, check it with ${names.map((n) => `devctl env ${n}`).join(', ')}, then devctl ${command}`,
    1,
    { problems, file: ecosystem.file },
  );
}
