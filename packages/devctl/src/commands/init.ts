import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runInit(_options: unknown): Promise<void> { throw new CLIError('init: not implemented yet'); }
