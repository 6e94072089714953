import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runStatus(_options: unknown): Promise<void> { throw new CLIError('status: not implemented yet'); }
