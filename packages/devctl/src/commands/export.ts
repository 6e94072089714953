// `devctl export compose|kubernetes`: deployable files from ecosystem.config.js and each service's
// configuration schema. Thin: the domain is src/export/. Exit 0 written (or unchanged), 1 refused
// (what would not work once deployed, or files edited since the last export), 2 usage.
import { buildServices } from '../ecosystem/build';
import { loadEcosystem } from '../ecosystem/index';
import { CLIError } from '../errors';
import { type ExportTarget, exportStack } from '../export/index';
import { MANIFEST } from '../export/write';
import { c } from '../output/colors';

export interface ExportOptions {
  target: ExportTarget;
  force: boolean;
  /** Build the services first (turbo, cached), so the schemas read are those of the sources. */
  build: boolean;
  json: boolean;
}

export async function runExport(options: ExportOptions): Promise<void> {
  const ecosystem = loadEcosystem();
  if (options.build) {
    // A stale dist/ would export the schema of an older build.
    await buildServices(ecosystem.root, ecosystem.services).catch((error: unknown) => {
      if (!(error instanceof CLIError)) throw error;
      throw new CLIError(
        `export ${options.target}: ${error.message}\nthen: devctl export ${options.target}`,
        error.exitCode,
        error.data,
      );
    });
  }
  const result = await exportStack(ecosystem, options.target, { force: options.force });
  if (result.problems.length > 0) {
    throw new CLIError(
      `export ${options.target}: refused, it would not work once deployed:\n${result.problems
        .map((problem) => `  ${problem.service}: ${problem.message}`)
        .join('\n')}\nnext: ${result.next}`,
      1,
      { target: options.target, problems: result.problems },
    );
  }
  const write = result.write as NonNullable<typeof result.write>;
  if (write.conflicts.length > 0) {
    throw new CLIError(
      `export ${options.target}: nothing written: ${write.conflicts.join(', ')} changed since devctl generated ${write.conflicts.length === 1 ? 'it' : 'them'} (hashes in ${MANIFEST}); keep your edits elsewhere (an overlay, deploy/compose.override.yaml) or overwrite them\nnext: devctl export ${options.target} --force`,
      1,
      { target: options.target, conflicts: write.conflicts },
    );
  }
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ target: options.target, files: write.files, next: result.next })}\n`,
    );
    return;
  }
  const lines = write.files.map(
    (file) =>
      `${file.outcome === 'unchanged' ? c.gray(file.outcome.padEnd(11)) : c.green(file.outcome.padEnd(11))} ${file.path}`,
  );
  process.stdout.write(`${lines.join('\n')}\nnext: ${result.next}\n`);
}
