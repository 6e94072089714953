// The configuration on disk, as the next start of each service would read it (the dry run of
// config-snapshot.ts), against the process that runs now:
// - a value the next start would refuse (exit 78): the running process still has the value it read
//   at its start, but PM2 restarts it on the file as it is at its next crash or at boot, and it
//   stops there. An error naming the variable, the file and the line.
// - .env files changed after the process started: it runs on older configuration (a warning:
//   restart to apply it).
// A service already stopped on its configuration is config-error.ts's (from its log).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EX_CONFIG } from '@repo/stack-contract';
import type { ServiceEntry } from '../../ecosystem/index';
import type { ConfigProblemLine, DryRun } from '../../ecosystem/print-config';
import { maskValue } from '../../output/mask';
import type { ServiceSnapshot, Snapshot } from '../collect';
import { type Place, placeOf, placeText } from '../config-snapshot';
import { type Candidate, clock, newErrors, restartCommand, systemEvidence } from './shared';

/** The kit masks secrets in its messages; mask again, so one that does not cannot leak here. */
export function maskProblem(problem: ConfigProblemLine): string {
  const message = problem.message.replace(
    /has an invalid value "((?:[^"\\]|\\.)*)"/,
    (whole, value: string) => {
      const masked = maskValue(problem.name, value);
      return masked === value ? whole : `has an invalid value "${masked}"`;
    },
  );
  return `${problem.name} ${message}`;
}

const assignment = (name: string) => new RegExp(`^\\s*(export\\s+)?${name.replace(/\W/g, '\\$&')}\\s*=`);

/** Where a refused variable is set: the ecosystem's env, else the first .env that assigns it. */
export function placeOfProblem(root: string, entry: ServiceEntry, problem: ConfigProblemLine): Place {
  if (problem.name in entry.env) return placeOf(root, entry, problem.name, 'process');
  for (const [file, source] of [
    [`${entry.folder}/.env`, 'service .env'],
    ['.env', 'root .env'],
  ] as const) {
    const path = join(root, file);
    if (
      existsSync(path) &&
      readFileSync(path, 'utf8')
        .split('\n')
        .some((line) => assignment(problem.name).test(line))
    ) {
      return placeOf(root, entry, problem.name, source);
    }
  }
  // Not set anywhere (a required variable): where the kit says to set it.
  return { file: problem.file || `${entry.folder}/.env`, line: null };
}

/** True when config-error.ts reports this service from its log: it already stopped on its config. */
function stoppedOnConfig(service: ServiceSnapshot): boolean {
  if (service.state === 'online' || service.state === 'launching') return false;
  return (
    service.process?.exitCode === EX_CONFIG ||
    newErrors(service).some((error) => error.origin === 'config-error')
  );
}

/** The .env files changed after the process started (PM2's start time of the running process). */
function changedSinceStart(snapshot: Snapshot, service: ServiceSnapshot) {
  const startedAt = service.process?.startedAt;
  if (!startedAt || service.state !== 'online') return [];
  // mtimes and PM2's start time come from different clocks' roundings: a second of slack.
  return (snapshot.config?.envFiles.get(service.entry.name) ?? []).filter(
    (file) => file.mtimeMs > startedAt + 1000,
  );
}

function refusedFinding(snapshot: Snapshot, service: ServiceSnapshot, run: DryRun): Candidate {
  const name = service.entry.name;
  const root = snapshot.ecosystem.root;
  const problems = run.problems ?? [];
  const places = problems.map((problem) => placeOfProblem(root, service.entry, problem));
  const described = problems
    .map((problem, i) => `${maskProblem(problem)} (${placeText(places[i] as Place)})`)
    .join('; ');
  const changed = changedSinceStart(snapshot, service);
  const pid = service.process?.pid;
  const startedAt = service.process?.startedAt;
  const running =
    service.state === 'online' && pid
      ? `the running process (pid ${pid}${startedAt ? `, started ${clock(startedAt)}` : ''}) still has the old value${
          changed.length > 0
            ? ` from before ${changed.map((file) => `${file.file} changed at ${clock(file.mtimeMs)}`).join(', ')}`
            : ''
        }; PM2 will restart it on this file at its next crash or at boot, and it will stop with exit ${EX_CONFIG}`
      : `its next start will stop with exit ${EX_CONFIG}`;
  const first = places.find((place) => place.line !== null);
  const fix = [...new Set(places.map(placeText))].join(', ');
  const example = existsSync(join(service.entry.cwd, '.env.example'))
    ? ` (see ${service.entry.folder}/.env.example)`
    : '';
  return {
    kind: 'config-error',
    service: name,
    severity: 'error',
    role: 'cause',
    summary: `${name}'s configuration on disk would be refused at its next start: ${described || 'invalid configuration'}; ${running}`,
    evidence: [
      systemEvidence(
        snapshot,
        name,
        `dry run (node ${service.entry.folder}/${service.entry.script} --print-config, as the next start reads it): exit ${EX_CONFIG}: ${
          problems.map(maskProblem).join('; ') || 'no variable named'
        }`,
      ),
      ...changed.map((file) =>
        systemEvidence(
          snapshot,
          name,
          `${file.file} changed at ${clock(file.mtimeMs)}, after the process started${startedAt ? ` at ${clock(startedAt)}` : ''}`,
        ),
      ),
    ],
    location: first?.line ? { file: first.file, line: first.line, column: 1 } : null,
    next: `fix ${problems.map((p) => p.name).join(', ') || 'the configuration'} in ${fix || `${service.entry.folder}/.env`}${example}, then ${restartCommand(name)}`,
  };
}

export function detectConfigOnDisk(snapshot: Snapshot): Candidate[] {
  if (!snapshot.config) return [];
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    if (!snapshot.selected.has(name) || service.state === 'not started') continue;
    const run = snapshot.config.runs.find((r) => r.service.name === name);
    if (run?.outcome === 'refused') {
      if (!stoppedOnConfig(service)) found.push(refusedFinding(snapshot, service, run));
      continue;
    }
    const changed = changedSinceStart(snapshot, service);
    if (changed.length === 0) continue;
    const startedAt = service.process?.startedAt as number;
    found.push({
      kind: 'config-stale',
      service: name,
      severity: 'warning',
      role: 'cause',
      summary: `${name} runs on configuration older than ${changed.map((file) => `${file.file} (changed at ${clock(file.mtimeMs)})`).join(' and ')}: it started at ${clock(startedAt)} and reads its .env files only at start`,
      evidence: changed.map((file) =>
        systemEvidence(
          snapshot,
          name,
          `${file.file} changed at ${clock(file.mtimeMs)}, after pid ${service.process?.pid} started at ${clock(startedAt)}`,
        ),
      ),
      location: null,
      next: `${restartCommand(name)} (to apply the change)`,
    });
  }
  return found;
}
