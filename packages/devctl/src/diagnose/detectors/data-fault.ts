// A fault in the data, not in the code: a database file that is not a database, a schema newer than
// the code, a migration that the existing data refuses. The service says so in its log: the error
// carries `dataLocation` (the file, or host:port/database) and `remedy` (what to do, one sentence),
// and for a migration which one (`migration`). The finding names the data and the remedy, and never
// sends anyone to edit the adapter line the error passed through.

import type { Snapshot } from '../collect';
import type { LoggedError } from '../log-tail';
import { type Candidate, errorEvidence, newErrors, occurrences, ownMessage, restartCommand } from './shared';

interface DataFaultFields {
  dataLocation: string;
  remedy: string | undefined;
  migration: string | undefined;
  message: string;
}

function fieldsOf(error: LoggedError): DataFaultFields | undefined {
  if (error.origin !== 'pino') return undefined;
  const err = error.record?.err as Record<string, unknown> | undefined;
  if (!err || typeof err.dataLocation !== 'string') return undefined;
  return {
    dataLocation: err.dataLocation,
    remedy: typeof err.remedy === 'string' ? err.remedy : undefined,
    migration: typeof err.migration === 'string' ? err.migration : undefined,
    message: ownMessage(error) ?? error.message,
  };
}

export const isDataFault = (error: LoggedError) => fieldsOf(error) !== undefined;

export function detectDataFaults(snapshot: Snapshot): Candidate[] {
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const name = service.entry.name;
    const groups = new Map<string, { fields: DataFaultFields; errors: LoggedError[] }>();
    for (const error of newErrors(service)) {
      const fields = fieldsOf(error);
      if (!fields) continue;
      const key = `${fields.dataLocation}|${fields.migration ?? ''}|${fields.message}`;
      const group = groups.get(key) ?? { fields, errors: [] };
      group.errors.push(error);
      groups.set(key, group);
    }
    for (const { fields, errors } of groups.values()) {
      const last = errors[errors.length - 1] as LoggedError;
      const count = occurrences(errors.map((error) => error.time));
      const remedy = fields.remedy ?? `check the data at ${fields.dataLocation}`;
      found.push({
        kind: 'data-fault',
        service: name,
        severity: 'error',
        role: 'cause',
        summary: `${name} cannot use its data (a fault in the data, not the code): ${fields.message}${count}`,
        evidence: [errorEvidence(snapshot, name, last)],
        location: null,
        next: `no code change: ${remedy}; then ${restartCommand(name)}`,
        requests: [...new Set(errors.flatMap((error) => error.requestId ?? []))],
        times: errors.map((error) => error.time),
      });
    }
  }
  return found;
}
