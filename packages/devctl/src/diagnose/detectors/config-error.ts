// A service stopped on its configuration: the kit wrote `config error in <svc>: VAR ...` lines and
// one `{"devctl":"config-error", variables:[{name,message,file}]}` line, and exited 78 (EX_CONFIG).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EX_CONFIG } from '@repo/stack-contract';
import type { Snapshot } from '../collect';
import type { SourceLocation } from '../types';
import { type Candidate, errorEvidence, lineEvidence, newErrors, restartCommand } from './shared';

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
      found.push({
        kind: 'config-error',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: `${name} exited ${EX_CONFIG} (configuration error); its log tail does not name the variable`,
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
    const file = variables[0]?.file || `${service.entry.folder}/.env`;
    const example = existsSync(join(service.entry.cwd, '.env.example'))
      ? ` (see ${service.entry.folder}/.env.example)`
      : '';
    const names = variables.map((v) => v.name).join(', ') || 'the variables named above';
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
      location: variables[0] ? lineOfVariable(snapshot.ecosystem.root, file, variables[0].name) : null,
      next: `set ${names} in ${file}${example}, then ${restartCommand(name)}`,
    });
  }
  return found;
}
