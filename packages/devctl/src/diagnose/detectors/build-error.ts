// A service whose sources do not build: the next start or restart would refuse it (the running
// process keeps running the older code, so nothing else may show it). Checked only when a source
// file (its own src/, its package.json, the src/ of the workspace packages it declares) is newer
// than its build output, then with esbuild's API in memory (~30 ms a service), as the build
// would run it: a syntax error, or an import of a package that is not installed or not declared.
import { checkBuildSync, sourcesNewerThanBuild } from '../../ecosystem/build';
import type { Snapshot } from '../collect';
import { type Candidate, systemEvidence } from './shared';

export function detectBuildErrors(snapshot: Snapshot): Candidate[] {
  const root = snapshot.ecosystem.root;
  const found: Candidate[] = [];
  for (const service of snapshot.services) {
    const entry = service.entry;
    if (entry.kind !== 'service' || !snapshot.selected.has(entry.name)) continue;
    if (!sourcesNewerThanBuild(root, entry)) continue;
    const problems = checkBuildSync(root, entry);
    const first = problems[0];
    if (!first) continue;
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
  return found;
}
