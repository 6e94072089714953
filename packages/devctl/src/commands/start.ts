import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runStart(_options: unknown): Promise<void> { throw new CLIError('start: not implemented yet'); }
