// What diagnose looked at, written to a file for the table tests of attribution and location
// (packages/devctl/test/diagnose-attribution.test.ts): with DEVCTL_RECORD_SNAPSHOT=<file>,
// `devctl diagnose` writes its snapshot -- each service's log tail as read, PM2 state and events,
// probes, port holders -- with the repository root as `<ROOT>`. Never environment values: the
// ecosystem entries are written without `env` and `app`; the dependencies keep host and port only.
import { writeFileSync } from 'node:fs';
import type { Snapshot } from './collect';

export interface SnapshotFile {
  now: number;
  daemonRunning: boolean;
  selected: string[];
  external: [string, string | null][];
  services: (Omit<Snapshot['services'][number], 'entry' | 'errors'> & {
    entry: Omit<Snapshot['services'][number]['entry'], 'env' | 'app'>;
  })[];
}

export function snapshotFile(snapshot: Snapshot): SnapshotFile {
  return {
    now: snapshot.now,
    daemonRunning: snapshot.daemonRunning,
    selected: [...snapshot.selected],
    external: [...snapshot.external],
    services: snapshot.services.map(({ entry, errors: _errors, ...rest }) => {
      const { env: _env, app: _app, ...kept } = entry;
      return { ...rest, entry: kept };
    }),
  };
}

export function writeSnapshotFile(snapshot: Snapshot, file: string): void {
  const text = JSON.stringify(snapshotFile(snapshot))
    .split(snapshot.ecosystem.root)
    .join('<ROOT>')
    .split(snapshot.pm2Home)
    .join('<PM2_HOME>');
  writeFileSync(file, `${text}\n`);
}
