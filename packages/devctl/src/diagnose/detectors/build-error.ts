// A service whose sources do not build: the next start or restart would refuse it (the running
// process keeps running the older code, so nothing else may show it). Checked only when a source
// file (its own src/, its package.json, the src/ of the workspace packages it declares) is newer
// than its build output, then with esbuild's API in memory (~30 ms a service), as the build
// would run it: a syntax error, or an import of a package that is not installed or not declared.
import { readCache, writeCache } from '../../cache';
import { checkBuildSync, sourceState } from '../../ecosystem/build';
import type { Snapshot } from '../collect';
import { type Candidate, systemEvidence } from './shared';

/**
 * The sources that built, by service: their signature (build time, newest source time, file count).
 * After a `git pull` every service's sources are newer than its build until the next start, and the
 * check (esbuild in memory) cost about 2.6 s on every diagnose on a loaded machine (7 services):
 * a passing check is not run again for the same sources. Failures are never kept: they are shown.
 */
const CACHE = 'build-checks.json';

class PassedChecks {
  private readonly entries: Record<string, unknown>;
  private changed = false;

  constructor(private readonly root: string) {
    this.entries = readCache(root, CACHE) ?? {};
  }

  passed(service: string, signature: string): boolean {
    return this.entries[service] === signature;
  }

  record(service: string, signature: string): void {
    this.entries[service] = signature;
    this.changed = true;
  }

  save(): void {
    // Unwritable (a read-only checkout): the next run checks again.
    if (this.changed) writeCache(this.root, CACHE, this.entries);
  }
}

export function detectBuildErrors(snapshot: Snapshot): Candidate[] {
  const root = snapshot.ecosystem.root;
  const found: Candidate[] = [];
  const passed = new PassedChecks(root);
  for (const service of snapshot.services) {
    const entry = service.entry;
    if (entry.kind !== 'service' || !snapshot.selected.has(entry.name)) continue;
    const state = sourceState(root, entry);
    if (!state?.newer || passed.passed(entry.name, state.signature)) continue;
    const problems = checkBuildSync(root, entry);
    const first = problems[0];
    if (!first) {
      passed.record(entry.name, state.signature);
      continue;
    }
    const where = first.location
      ? `${first.location.file}:${first.location.line}:${first.location.column}`
      : entry.folder;
    const more =
      problems.length > 1
        ? ` (and ${problems.length - 1} more build error${problems.length > 2 ? 's' : ''})`
        : '';
    found.push({
      kind: 'build-error',
      service: entry.name,
      severity: 'error',
      role: 'cause',
      summary: `${entry.name} does not build: ${where}: ${first.message}${more}; a start or restart would keep its older code running`,
      evidence: problems
        .slice(0, 3)
        .map((problem) =>
          systemEvidence(
            snapshot,
            entry.name,
            `esbuild: ${problem.location ? `${problem.location.file}:${problem.location.line}:${problem.location.column}: ` : ''}${problem.message}${problem.lineText ? `\n    ${problem.lineText}` : ''}`,
          ),
        ),
      location: first.location,
      next: first.next,
    });
  }
  passed.save();
  return found;
}
