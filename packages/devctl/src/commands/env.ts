import { CLIError } from '../errors';
// PLACEHOLDER: replaced by the real command.
export async function runEnv(_options: unknown): Promise<void> { throw new CLIError('env: not implemented yet'); }
