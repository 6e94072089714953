import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runDev(_options: unknown): Promise<void> { throw new CLIError('dev: not implemented yet'); }
