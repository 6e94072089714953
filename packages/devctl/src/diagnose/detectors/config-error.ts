// A service stopped on its configuration: the kit wrote `config error in <svc>: VAR ...` lines and
// one `{"devctl":"config-error", variables:[{name,message,file}]}` line, and exited 78 (EX_CONFIG).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EX_CONFIG } from '@repo/stack-contract';
import type { DryRun } from '../../ecosystem/print-config';
import type { ServiceSnapshot, Snapshot } from '../collect';
import type { SourceLocation } from '../types';
import { maskProblem } from './config-on-disk';
import {
  type Candidate,
  errorEvidence,
  lineEvidence,
  newErrors,
  restartCommand,
  systemEvidence,
} from './shared';

interface ConfigVariable {
  name: string;
  message: string;
  file: string;
}

function variablesOf(record: Record<string, unknown> | undefined): ConfigVariable[] {
  const list = Array.isArray(record?.variables) ? (record.variables as unknown[]) : [];
  return list
    .filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object')
    .map((v) => ({
      name: String(v.name ?? '?'),
      message: String(v.message ?? 'is invalid'),
      file: String(v.file ?? ''),
    }));
}

/** Where the variable is set in a .env file, when it is (an invalid value): its line. */
function lineOfVariable(root: string, file: string, name: string): SourceLocation | null {
  const path = join(root, file);
  if (!file || !existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split('\n');
  const index = lines.findIndex((line) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=`).test(line));
  return index === -1 ? null : { file, line: index + 1, column: 1 };
}

export function detectConfigErrors(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const running = service.state === 'online';
    const errors = newErrors(service).filter((error) => error.origin === 'config-error');
    const last = errors[errors.length - 1];
    const exitedConfig = service.process?.exitCode === EX_CONFIG && !running;
    if (!last) {
      if (!exitedConfig) continue;
      // PM2 writes a process's last output after its exit, or not at all (it closes the log files
      // on the child's exit, which Node may report before the last stderr data): on a loaded
      // machine the kit's lines never reached the file (a whole `pnpm test`: "its log tail does not
      // name the variable"). The dry run of the configuration on disk, as the next start reads it,
      // says the same thing unless the file changed since.
      const run = snapshot.config?.runs.find((r) => r.service.name === name);
      if (run?.outcome === 'refused' && (run.problems?.length ?? 0) > 0) {
        found.push(fromDryRun(snapshot, service, run));
        continue;
      }
      found.push({
        kind: 'config-error',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: `${name} exited ${EX_CONFIG} (configuration error); its log tail does not name the variable${
          run?.outcome === 'passed'
            ? ', and the configuration on disk passes its dry run now (changed since it stopped?)'
            : ''
        }`,
        evidence: [],
        location: null,
        next: `run node ${service.entry.folder}/${service.entry.script} --print-config to see the problem, fix ${service.entry.folder}/.env, then ${restartCommand(name)}`,
      });
      continue;
    }
    // Running again since (PM2 does not restart after exit 78): that error is history.
    if (running) continue;
    const variables = variablesOf(last.record);
    const human = service.lines.filter(
      (line) =>
        line.stream === 'err' &&
        line.text.startsWith(`config error in `) &&
        Math.abs(line.time - last.time) <= 1000,
    );
    const described = variables.map((v) => `${v.name} ${v.message}`).join('; ');
    found.push({
      kind: 'config-error',
      service: name,
      severity: 'error',
      role: 'cause',
      summary: `${name} stopped on a configuration error: ${described || 'invalid configuration'}`,
      evidence:
        human.length > 0
          ? human.map((line) => lineEvidence(snapshot, name, line))
          : [errorEvidence(snapshot, name, last)],
      ...whereToSet(snapshot, service, variables),
    });
  }
  return found;
}

/** The finding's location and next step: the file the kit names (else the service's .env), and its line. */
function whereToSet(
  snapshot: Snapshot,
  service: ServiceSnapshot,
  variables: ConfigVariable[],
): Pick<Candidate, 'location' | 'next'> {
  const file = variables[0]?.file || `${service.entry.folder}/.env`;
  const example = existsSync(join(service.entry.cwd, '.env.example'))
    ? ` (see ${service.entry.folder}/.env.example)`
    : '';
  const names = variables.map((v) => v.name).join(', ') || 'the variables named above';
  return {
    location: variables[0] ? lineOfVariable(snapshot.ecosystem.root, file, variables[0].name) : null,
    next: `set ${names} in ${file}${example}, then ${restartCommand(service.entry.name)}`,
  };
}

/** Stopped on its configuration, its log without the kit's lines: what the dry run names, as the log would. */
function fromDryRun(snapshot: Snapshot, service: ServiceSnapshot, run: DryRun): Candidate {
  const name = service.entry.name;
  const problems = run.problems ?? [];
  // As the kit's own lines say it, masked again (config-on-disk's maskProblem): no raw stderr here.
  const said = problems.map((problem) => `config error in ${name}: ${maskProblem(problem)}`);
  return {
    kind: 'config-error',
    service: name,
    severity: 'error',
    role: 'cause',
    summary: `${name} stopped on a configuration error: ${problems.map(maskProblem).join('; ')} (exit ${EX_CONFIG}; its log kept none of it, read from the dry run of the configuration on disk)`,
    evidence: [
      systemEvidence(
        snapshot,
        name,
        `PM2: exited with code ${EX_CONFIG}; its error log has no line since its start (PM2 writes a process's last output after the exit, and may drop it)`,
      ),
      systemEvidence(
        snapshot,
        name,
        `dry run (node ${service.entry.folder}/${service.entry.script} --print-config, as the next start reads it): exit ${EX_CONFIG}${said.length > 0 ? `: ${said.join(' | ')}` : ''}`,
      ),
    ],
    ...whereToSet(snapshot, service, problems),
  };
}
