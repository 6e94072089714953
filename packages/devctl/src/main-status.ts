// The fast entry of `devctl status`, the command people and agents run most: a bundle of its own
// (dist/status.cjs, a fifth the size of dist/main.cjs), so a status loads only the code it runs.
// It handles `status [names...] [--json] [--verbose]`; anything else (--help, an unknown option)
// goes to the full CLI, which gives the same answers as for every command.
import { parseArgs } from 'node:util';
import { runStatus } from './commands/status';
import { reportError } from './errors';
import { disableColors } from './output/colors';

function parse(args: string[]): { names: string[]; json: boolean; verbose: boolean } | undefined {
  if (args.includes('--help') || args.includes('-h')) return undefined;
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, verbose: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    return { names: positionals, json: Boolean(values.json), verbose: Boolean(values.verbose) };
  } catch {
    return undefined;
  }
}

// As in main.ts: a closed pipe is a normal end of output.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

/** Runs `devctl status` and resolves with the exit code, or undefined to hand over to the full CLI. */
export async function fastStatus(args: string[]): Promise<number | undefined> {
  const options = parse(args);
  if (!options) return undefined;
  if (options.json) disableColors();
  try {
    await runStatus({ names: options.names, json: options.json });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, options);
  }
}
